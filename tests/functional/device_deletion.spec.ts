import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import AuditLog from '#models/audit_log'
import Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import {
  countRows,
  grant,
  post,
  resetTerminalState,
  signedPost,
  tokenFor,
} from '#tests/helpers/terminal'

test.group('Devices: deleting one', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('asks first, then removes the device, its credential, tokens and presence; its events keep its name', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved')
      .merge({ name: 'Lobby east', serialNumber: 'SN-LOBBY-E' })
      .create()
    const other = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.merge({ displayName: 'Grace Hopper' }).create()
    const doorGroup = await grant([person], [device, other])
    const feedback = await post(
      client,
      'clinetFeedback',
      { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Grace Hopper' },
      'form',
      device
    )
    const reported = await AccessEvent.findOrFail(feedback.body().eventId)
    const imported = await AccessEvent.create({
      deviceId: device.id,
      decision: 'denied',
      reason: 'unknown_face',
      method: 'face',
      occurredAt: DateTime.now(),
      receivedAt: DateTime.now(),
    })
    const token = await tokenFor(client, device)
    const otherToken = await tokenFor(client, other)
    await new DeviceRefusals().record(device, {
      address: '203.0.113.9',
      endpoint: 'getDbs',
      reason: 'the signature does not verify',
    })
    const tokens = new DeviceTokenStore()
    assert.equal(await tokens.ownerOf(token), device.id)
    const seen = await new DevicePresence().latest()
    assert.isTrue(seen.has(device.id))

    const confirm = await client.get(`/admin/devices/${device.id}/delete`).loginAs(operator)
    confirm.assertStatus(200)
    confirm.assertTextIncludes('its 2 access events stay in the log, naming it as Lobby east')
    confirm.assertTextIncludes(`action="/admin/devices/${device.id}?_method=DELETE"`)

    const deleted = await client
      .delete(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    deleted.assertStatus(302)
    deleted.assertHeader('location', '/admin/devices')
    assert.equal(
      deleted.flashMessages().success,
      'Lobby east was deleted. Its events stay in the log under its name.'
    )

    assert.isNull(await Device.find(device.id))
    assert.isNull(await tokens.ownerOf(token), 'its tokens are gone')
    assert.equal(await tokens.ownerOf(otherToken), other.id, "another device's stay")
    const seenAfter = await new DevicePresence().latest()
    assert.isFalse(seenAfter.has(device.id))
    assert.deepEqual(await new DeviceRefusals().of(device.id), { total: 0, recent: [] })
    await doorGroup.load('devices')
    assert.deepEqual(
      doorGroup.devices.map((member) => member.id),
      [other.id]
    )

    for (const event of [reported, imported]) {
      await event.refresh()
      assert.isNull(event.deviceId)
      assert.equal(event.deviceLabel, 'Lobby east (SN-LOBBY-E)')
    }
    const events = await client.get('/admin/events').loginAs(operator)
    events.assertTextIncludes('Lobby east (SN-LOBBY-E)')

    const entry = await AuditLog.findByOrFail('action', 'device.delete')
    assert.equal(entry.subjectLabel, 'Lobby east (SN-LOBBY-E)')
    const before = entry.before as Record<string, unknown>
    assert.equal(before.serialNumber, 'SN-LOBBY-E')
    assert.deepEqual(before.accessGroups, [doorGroup.name])
    assert.notProperty(before, 'credentialSecret')

    const again = await signedPost(
      client,
      'token',
      { deviceName: device.name, sn: device.serialNumber },
      'form',
      device
    )
    assert.equal(again.body().code, 9001, 'its credential no longer proves anything')
    assert.equal(await countRows('devices'), 1, 'a signed call does not register it again')
  })

  test('an auditor may not delete a device', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.apply('approved').create()
    const events = await countRows('access_events')

    const confirm = await client.get(`/admin/devices/${device.id}/delete`).loginAs(auditor)
    confirm.assertStatus(403)
    const deleted = await client
      .delete(`/admin/devices/${device.id}`)
      .loginAs(auditor)
      .withCsrfToken()
    deleted.assertStatus(403)

    assert.exists(await Device.find(device.id))
    assert.equal(await countRows('access_events'), events)
    assert.isNull(await AuditLog.findBy('action', 'device.delete'))
  })
})
