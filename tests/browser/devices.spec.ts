import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import { DeviceFactory } from '#database/factories/device_factory'
import { UserFactory } from '#database/factories/user_factory'
import { useSimulatedGate } from '#tests/helpers/gate'
import { resetTerminalState, tokenFor } from '#tests/helpers/terminal'

test.group('Devices in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a device shows online as soon as it calls, on the list, its page and the dashboard', async ({
    browserContext,
    visit,
    client,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const row = `[data-test="device-row"][data-serial="${device.serialNumber}"]`

    const list = await visit('/admin/devices')
    await list.assertTextContains(`${row} [data-test="presence-badge"]`, 'Offline')
    const page = await visit(`/admin/devices/${device.id}/edit`)
    await page.assertTextContains('[data-test="device-presence"]', 'Offline')
    const dashboard = await visit('/admin')
    await dashboard.assertTextContains('[data-test="offline-count"]', '1')
    await dashboard.assertVisible(`[data-offline-device="${device.id}"]`)

    await tokenFor(client, device)

    await list.assertTextContains(`${row} [data-test="presence-badge"]`, 'Online')
    await list.assertTextContains(`${row} [data-presence-address]`, '127.0.0.1')
    await page.assertTextContains('[data-test="device-presence"]', 'Online')
    await dashboard.assertTextContains('[data-test="offline-count"]', '0')
    await dashboard.assertNotVisible(`[data-offline-device="${device.id}"]`)
    await dashboard.assertTextContains('[data-offline-none]', 'Every approved device is online.')
  })

  test('a lost device is blocked from the dashboard after a confirmation page', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()

    const page = await visit('/admin')
    await page
      .locator(`[data-offline-device="${device.id}"]`)
      .getByRole('link', { name: 'Block…' })
      .click()
    await page.assertTextContains('h1', 'Block Lobby east?')
    await device.refresh()
    assert.equal(device.status, 'approved', 'nothing happens before the confirmation')

    await page.getByRole('button', { name: 'Block the device' }).click()
    await page.assertTextContains('body', 'Lobby east is blocked; it can no longer connect.')
    await page.assertTextContains('[data-test="device-status"]', 'Blocked')
    await device.refresh()
    assert.equal(device.status, 'blocked')
    assert.exists(await AuditLog.findBy('action', 'device.block'))
  })

  test('an operator chooses the gate and opens the door; the simulated gate records it', async ({
    browserContext,
    visit,
    assert,
    cleanup,
  }) => {
    const { simulator } = await useSimulatedGate(cleanup)
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()

    const page = await visit(`/admin/devices/${device.id}/edit`)
    await page.assertTextContains('[data-test="no-gate"]', 'No gate is set for Lobby east')
    await page.getByLabel('Gate', { exact: true }).selectOption('front-door')
    await page.getByLabel('Open for (seconds)').fill('4')
    await page.getByRole('button', { name: 'Save door' }).click()
    await page.assertTextContains('body', 'The door of Lobby east was saved.')

    await page.getByRole('button', { name: 'Open the door (4 s)' }).click()
    await page.assertTextContains('body', 'The door at Lobby east is open for 4 seconds.')
    const opens = await simulator.opens()
    assert.lengthOf(opens, 1)
    assert.include(opens[0], { instance: 'front-door', durationMs: 4000 })
    const entry = await AuditLog.findByOrFail('action', 'device.open_door')
    assert.equal(entry.userId, operator.id)
    assert.deepEqual(entry.after, { gate: 'front-door', durationMs: 4000 })
  })
})
