import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { FaceDbRevision } from '#services/face_db_revision'

test.group('Devices pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('pending devices are listed first and an operator approves one', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await DeviceFactory.apply('approved')
      .merge({ name: 'A approved', serialNumber: 'SN-A' })
      .create()
    const pending = await DeviceFactory.merge({ name: 'Z pending', serialNumber: 'SN-Z' }).create()

    const list = await client.get('/admin/devices').loginAs(operator)
    list.assertStatus(200)
    const html = list.text()
    assert.isBelow(html.indexOf('data-serial="SN-Z"'), html.indexOf('data-serial="SN-A"'))
    assert.include(html, '<span class="badge badge-pending">Pending</span>')
    assert.notInclude(html, '@!statusBadge')

    const revisionBefore = await new FaceDbRevision().current()
    const response = await client
      .post(`/admin/devices/${pending.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'approved' })
      .redirects(0)
    response.assertStatus(302)

    await pending.refresh()
    assert.equal(pending.status, 'approved')
    assert.isAbove(await new FaceDbRevision().current(), revisionBefore)
    const entry = await AuditLog.findByOrFail('action', 'device.approve')
    assert.deepEqual(entry.before, { status: 'pending' })
    assert.deepEqual(entry.after, { status: 'approved' })
  })

  test('an operator blocks a device and filters by status', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ serialNumber: 'SN-1' }).create()
    await DeviceFactory.merge({ serialNumber: 'SN-2' }).create()

    await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'blocked' })
    await device.refresh()
    assert.equal(device.status, 'blocked')

    const wildcard = await client.get('/admin/devices').qs({ q: '%' }).loginAs(operator)
    assert.notInclude(wildcard.text(), 'data-test="device-row"')
    const bySerial = await client.get('/admin/devices').qs({ q: 'sn-2' }).loginAs(operator)
    bySerial.assertTextIncludes('data-serial="SN-2"')
    assert.notInclude(bySerial.text(), 'data-serial="SN-1"')

    const blocked = await client.get('/admin/devices').qs({ status: 'blocked' }).loginAs(operator)
    blocked.assertTextIncludes('data-serial="SN-1"')
    assert.notInclude(blocked.text(), 'data-serial="SN-2"')
  })

  test('a status other than approved or blocked is rejected', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.create()
    const response = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ status: 'root' })
    response.assertStatus(422)
    await device.refresh()
    assert.equal(device.status, 'pending')
  })

  test('an operator renames a device; a name in use is a field error', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.merge({ name: 'Lobby 1' }).create()
    await DeviceFactory.merge({ name: 'Lobby 2' }).create()

    const taken = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: 'Lobby 2', mode: 'online', requiredFactors: 'face' })
    taken.assertStatus(422)
    assert.equal(taken.body().errors[0].field, 'name')

    const renamed = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form({
        name: 'Lobby east',
        mode: 'offline',
        requiredFactors: 'face_card',
        location: 'East door',
      })
      .redirects(0)
    renamed.assertStatus(302)
    await device.refresh()
    assert.equal(device.name, 'Lobby east')
    assert.equal(device.mode, 'offline')
    assert.equal(device.requiredFactors, 'face_card')
    assert.equal(device.location, 'East door')
  })

  test('an auditor sees devices but cannot approve, block or edit', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.merge({ name: 'Gate 7' }).create()

    const list = await client.get('/admin/devices').loginAs(auditor)
    list.assertStatus(200)
    list.assertTextIncludes('Gate 7')
    assert.notInclude(list.text(), '>Approve<')

    const approve = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(auditor)
      .withCsrfToken()
      .form({ status: 'approved' })
    approve.assertStatus(403)
    const edit = await client.get(`/admin/devices/${device.id}/edit`).loginAs(auditor)
    edit.assertStatus(403)

    await device.refresh()
    assert.equal(device.status, 'pending')
  })
})
