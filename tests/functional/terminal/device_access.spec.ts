import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { encodings, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

test.group('Terminal protocol: tokens at work and presence', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a token serves one call; the replay is 7 ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const token = await tokenFor(client, device)
      const fields = { deviceName: device.name, deviceSN: device.serialNumber, token }

      const first = await post(client, 'getDbs', fields, encoding)
      assert.include(first.body(), { flag: 'getDbs', code: 0 })
      const replay = await post(client, 'getDbs', fields, encoding)
      assert.include(replay.body(), { flag: 'getDbs', code: 7 })
      assert.match(replay.body().message, /^Expired: .*new one/)
    })

  test('a token expires after its lifetime', async ({ client, assert, cleanup }) => {
    app.container.swap(
      DeviceTokenStore,
      () => new DeviceTokenStore({ ...terminalConfig.tokens, ttlSeconds: 1 })
    )
    cleanup(() => app.container.restore(DeviceTokenStore))
    const device = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, device)
    await new Promise((resolve) => setTimeout(resolve, 1500))

    const response = await client
      .post('/faces/api/getDbs')
      .form({ deviceName: device.name, deviceSN: device.serialNumber, token })
    assert.include(response.body(), { code: 7 })
  })

  test('reusable tokens serve until they expire when single use is turned off', async ({
    client,
    assert,
    cleanup,
  }) => {
    app.container.swap(
      DeviceTokenStore,
      () => new DeviceTokenStore({ ...terminalConfig.tokens, singleUse: false })
    )
    cleanup(() => app.container.restore(DeviceTokenStore))
    const device = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, device)
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, token }
    for (let i = 0; i < 3; i++) {
      const response = await client.post('/faces/api/getDbs').form(fields)
      assert.equal(response.body().code, 0)
    }
  })

  test('a token is bound to the device it was issued to', async ({ client, assert }) => {
    const owner = await DeviceFactory.apply('approved').create()
    const other = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, owner)
    const response = await client
      .post('/faces/api/getDbs')
      .form({ deviceName: other.name, deviceSN: other.serialNumber, token })
    assert.include(response.body(), { code: 7 })
    assert.match(response.body().message, /another device/)
  })

  test('a made-up or malformed token is refused', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber }
    const madeUp = await client.post('/faces/api/getDbs').form({ ...fields, token: 'a'.repeat(40) })
    assert.equal(madeUp.body().code, 7)
    const malformed = await client.post('/faces/api/getDbs').form({ ...fields, token: 'xyz' })
    assert.equal(malformed.body().code, 2)
    const missing = await client.post('/faces/api/getDbs').form(fields)
    assert.include(missing.body(), { code: 9005, message: 'Incomplete parameters: missing token' })
  })

  test('a device blocked after getting its token is refused with 9001', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, device)
    device.status = 'blocked'
    await device.save()
    const response = await client
      .post('/faces/api/getDbs')
      .json({ deviceName: device.name, deviceSN: device.serialNumber, token })
    assert.include(response.body(), { flag: 'getDbs', code: 9001 })
  })

  test('an unknown device name and serial number is 9003 outside /token', async ({
    client,
    assert,
  }) => {
    const response = await client
      .post('/faces/api/clinetWebResult')
      .form({ deviceName: 'Nobody', deviceSN: 'SN-NOBODY' })
    assert.include(response.body(), { flag: 'clinetwebresult', code: 9003 })
    assert.equal(await Device.query().where('serial_number', 'SN-NOBODY').first(), null)
  })

  test('calls record last-seen time and address, written in one batched statement', async ({
    client,
    assert,
  }) => {
    const presence = new DevicePresence()
    await presence.flush()
    const devices = await DeviceFactory.apply('approved').createMany(40)
    const before = Date.now()
    for (const device of devices) await tokenFor(client, device)
    for (const device of devices.slice(0, 10)) {
      await client
        .post('/faces/api/clinetWebResult')
        .form({ deviceName: device.name, deviceSN: device.serialNumber })
    }
    const unchanged = await Device.findOrFail(devices[0].id)
    assert.isNull(unchanged.lastSeenAt)

    const statements: string[] = []
    const listener = (query: { sql: string }) => statements.push(query.sql)
    const knex = db.connection().getWriteClient()
    knex.on('query', listener)
    const flushed = await presence.flush().finally(() => knex.off('query', listener))

    assert.deepEqual(flushed, { devices: 40, statements: 1 })
    assert.lengthOf(
      statements.filter((sql) => /^update\b/i.test(sql)),
      1
    )
    const seen = await Device.query().whereIn(
      'id',
      devices.map((device) => device.id)
    )
    for (const device of seen) {
      assert.equal(device.lastSeenAddress, '127.0.0.1')
      assert.isAtLeast(device.lastSeenAt!.toMillis(), Math.floor(before / 1000) * 1000)
    }
    assert.deepEqual(await presence.flush(), { devices: 0, statements: 0 })
  })

  test('pending and blocked devices are seen too, so operators know they are calling', async ({
    client,
    assert,
  }) => {
    const presence = new DevicePresence()
    await presence.flush()
    const blocked = await DeviceFactory.apply('blocked').create()
    await client
      .post('/faces/api/token')
      .form({ deviceName: blocked.name, sn: blocked.serialNumber })
    await client.post('/faces/api/token').form({ deviceName: 'Newcomer', sn: 'SN-NEWCOMER' })
    await presence.flush()
    await blocked.refresh()
    assert.isNotNull(blocked.lastSeenAt)
    const newcomer = await Device.findByOrFail('serialNumber', 'SN-NEWCOMER')
    assert.equal(newcomer.lastSeenAddress, '127.0.0.1')
  })
})
