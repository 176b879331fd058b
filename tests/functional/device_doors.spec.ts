import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import { DeviceFactory } from '#database/factories/device_factory'
import { UserFactory } from '#database/factories/user_factory'
import { useSimulatedGate } from '#tests/helpers/gate'
import { countRows, resetTerminalState } from '#tests/helpers/terminal'

const openDoor = (id: number) => `/admin/devices/${id}/door/open`

test.group('Devices: the door', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('an operator chooses the gate and opens the door; the gate and the audit log record it', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { simulator } = await useSimulatedGate(cleanup)
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('No gate is set for Lobby east')
    page.assertTextIncludes('<option value="front-door" >front-door</option>')

    const saved = await client
      .put(`/admin/devices/${device.id}/door`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ gate: 'front-door', openSeconds: '3' })
      .redirects(0)
    saved.assertStatus(302)
    await device.refresh()
    assert.deepEqual(device.config?.door, { gate: 'front-door', openSeconds: 3 })
    const setting = await AuditLog.findByOrFail('action', 'device.door')
    assert.deepEqual(setting.after, { door: { gate: 'front-door', openSeconds: 3 } })

    const opened = await client
      .post(openDoor(device.id))
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin')
      .redirects(0)
    opened.assertHeader('location', '/admin')
    assert.equal(opened.flashMessages().success, 'The door at Lobby east is open for 3 seconds.')
    const [opening] = await simulator.opens()
    assert.include(opening, { instance: 'front-door', durationMs: 3000 })
    assert.equal(await simulator.observedGate(), 'open')
    const entry = await AuditLog.findByOrFail('action', 'device.open_door')
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectId, String(device.id))
    assert.deepEqual(entry.after, { gate: 'front-door', durationMs: 3000 })
  })

  test('without a gate set, opening is refused with the reason and attempts nothing', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { simulator } = await useSimulatedGate(cleanup)
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ name: 'Side door' }).create()
    const auditEntries = await countRows('audit_logs')

    const refused = await client
      .post(openDoor(device.id))
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    refused.assertStatus(302)
    assert.equal(
      refused.flashMessages().error,
      "No gate is set for Side door: choose the gate that opens its door on the device's page."
    )

    device.config = { door: { gate: 'gone-gate', openSeconds: 5 } }
    await device.save()
    const missing = await client
      .post(openDoor(device.id))
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    assert.equal(
      missing.flashMessages().error,
      'The gate set for Side door, gone-gate, is not a gate instance in the plugins file; its door cannot be opened until it is added there or another gate is chosen.'
    )

    assert.deepEqual(await simulator.opens(), [])
    assert.equal(await countRows('audit_logs'), auditEntries)
  })

  test('a gate that is not running opens nothing; the attempt is audited', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { simulator, host } = await useSimulatedGate(cleanup)
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved')
      .merge({ name: 'Side door', config: { door: { gate: 'front-door', openSeconds: 5 } } })
      .create()
    await host.stop()

    const refused = await client
      .post(openDoor(device.id))
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    assert.equal(
      refused.flashMessages().error,
      'The door was not opened: the gate front-door is not running (Stopped). Settings shows why.'
    )
    assert.deepEqual(await simulator.opens(), [])
    const entry = await AuditLog.findByOrFail('action', 'device.open_door_failed')
    assert.deepEqual(entry.after, {
      gate: 'front-door',
      durationMs: 5000,
      refused: 'gate_unavailable: stopped',
    })
  })

  test('only a gate instance of the plugins file may be chosen', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useSimulatedGate(cleanup)
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()

    const response = await client
      .put(`/admin/devices/${device.id}/door`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ gate: 'lobby-light', openSeconds: '5' })
    response.assertStatus(422)
    assert.deepEqual(response.body().errors, [
      {
        field: 'gate',
        message: 'lobby-light is not a gate instance in the plugins file.',
        rule: 'database',
      },
    ])
    await device.refresh()
    assert.isUndefined(device.config?.door)
  })

  test('an auditor may neither open the door nor choose its gate', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { simulator } = await useSimulatedGate(cleanup)
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.apply('approved')
      .merge({ config: { door: { gate: 'front-door', openSeconds: 5 } } })
      .create()

    const open = await client.post(openDoor(device.id)).loginAs(auditor).withCsrfToken()
    open.assertStatus(403)
    const choose = await client
      .put(`/admin/devices/${device.id}/door`)
      .loginAs(auditor)
      .withCsrfToken()
      .form({ gate: '', openSeconds: '5' })
    choose.assertStatus(403)

    assert.deepEqual(await simulator.opens(), [])
    assert.isNull(await AuditLog.findBy('action', 'device.open_door'))
  })
})
