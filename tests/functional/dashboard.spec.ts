import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { UserFactory } from '#database/factories/user_factory'
import { DevicePresence } from '#services/terminal/device_presence'
import { resetTerminalState } from '#tests/helpers/terminal'

function eventAt(occurredAt: DateTime, device: Device, decision: 'granted' | 'denied') {
  return AccessEvent.create({
    deviceId: device.id,
    decision,
    reason: decision === 'granted' ? 'granted' : 'unknown_face',
    reportedName: decision === 'denied' ? 'Stranger' : null,
    method: 'face',
    occurredAt,
    receivedAt: occurredAt,
  })
}

test.group('Dashboard', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test("shows today's counts by hour, the latest events with denials as alerts, and the devices offline", async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
    await DeviceFactory.merge({ name: 'Still pending' }).create()
    await new DevicePresence().seen(lobby.id, '10.0.0.5')

    const today = DateTime.now().startOf('day')
    await eventAt(today.set({ hour: 8, minute: 5 }), lobby, 'granted')
    await eventAt(today.set({ hour: 8, minute: 40 }), lobby, 'denied')
    await eventAt(today.set({ hour: 9, minute: 15 }), garage, 'granted')
    await eventAt(today.minus({ hours: 2 }), garage, 'granted')

    const page = await client.get('/admin').loginAs(operator)
    page.assertStatus(200)
    const html = page.text()
    assert.match(html, /data-test="events-today" data-count="events">3</)
    assert.match(html, /data-test="denied-today" data-count="denied">1</)
    assert.include(html, '<g data-hour="8" data-granted="1" data-denied="1">')
    assert.include(html, '<g data-hour="9" data-granted="1" data-denied="0">')
    assert.include(html, '<title>08:00–09:00: 2 in all, 1 denied</title>')

    assert.equal(html.match(/data-test="dashboard-event"/g)?.length, 4)
    assert.match(html, /data-decision="denied" data-day="[\d-]+" data-hour="8"/)

    assert.match(html, /data-test="offline-count" data-offline-count>1</)
    assert.match(
      html,
      new RegExp(`data-offline-device="${lobby.id}" data-presence="${lobby.id}" hidden`)
    )
    assert.match(
      html,
      new RegExp(`data-offline-device="${garage.id}" data-presence="${garage.id}" >`)
    )
    assert.include(html, `href="/admin/devices/${garage.id}/block"`)
    assert.notInclude(html, 'Still pending')
  })

  test('an auditor sees the dashboard without block links, and whether a device is online', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.apply('approved').create()

    const page = await client.get('/admin').loginAs(auditor)
    page.assertStatus(200)
    page.assertTextIncludes(`data-offline-device="${device.id}"`)
    assert.notInclude(page.text(), `/admin/devices/${device.id}/block`)

    const devicePage = await client.get(`/admin/devices/${device.id}`).loginAs(auditor)
    devicePage.assertTextIncludes('data-test="device-presence"')
    devicePage.assertTextIncludes('data-test="presence-badge"')
  })

  test('the dashboard speaks Chinese to a Chinese-speaking operator', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.merge({ locale: 'zh' }).create()
    await DeviceFactory.apply('approved').create()

    const page = await client.get('/admin').loginAs(operator)
    page.assertTextIncludes('最新通行记录')
    page.assertTextIncludes('当前离线的设备')
    assert.notMatch(page.text(), /translation missing/i)
  })
})
