import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { encodeBody, signCall } from '#terminal-client/faces_api_client'
import {
  countRows,
  credentialOf,
  encodings,
  notProven,
  post,
  rawPost,
  resetTerminalState,
  tokenFor,
} from '#tests/helpers/terminal'

test.group('Terminal protocol: tokens at work and presence', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a token serves one call; the replay is 7 ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const token = await tokenFor(client, device)
      const fields = { deviceName: device.name, deviceSN: device.serialNumber, token }

      const first = await post(client, 'getDbs', fields, encoding, device)
      assert.include(first.body(), { flag: 'getDbs', code: 0 })
      const replay = await post(client, 'getDbs', fields, encoding, device)
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

    const response = await post(
      client,
      'getDbs',
      { deviceName: device.name, deviceSN: device.serialNumber, token },
      'form',
      device
    )
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
      const response = await post(client, 'getDbs', fields, 'form', device)
      assert.equal(response.body().code, 0)
    }
  })

  test('a token is bound to the device it was issued to', async ({ client, assert }) => {
    const owner = await DeviceFactory.apply('approved').create()
    const other = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, owner)
    const response = await post(
      client,
      'getDbs',
      { deviceName: other.name, deviceSN: other.serialNumber, token },
      'form',
      other
    )
    assert.include(response.body(), { code: 7 })
    assert.match(response.body().message, /another device/)
  })

  test('a made-up or malformed token is refused', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber }
    const madeUp = await post(
      client,
      'getDbs',
      { ...fields, token: 'a'.repeat(40) },
      'form',
      device
    )
    assert.equal(madeUp.body().code, 7)
    const malformed = await post(client, 'getDbs', { ...fields, token: 'xyz' }, 'form', device)
    assert.equal(malformed.body().code, 2)
    const missing = await post(client, 'getDbs', fields, 'form', device)
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
    const response = await post(
      client,
      'getDbs',
      { deviceName: device.name, deviceSN: device.serialNumber, token },
      'json',
      device
    )
    assert.include(response.body(), { flag: 'getDbs', code: 9001 })
    assert.match(response.body().message, /blocked/)
  })

  test('unsigned, an unknown device outside /token is the same 9001, and nothing is registered', async ({
    client,
    assert,
  }) => {
    const response = await client
      .post('/faces/api/clinetWebResult')
      .form({ deviceName: 'Nobody', deviceSN: 'SN-NOBODY' })
    assert.deepEqual(response.body(), { flag: 'clinetwebresult', code: 9001, message: notProven })
    assert.equal(await Device.query().where('serial_number', 'SN-NOBODY').first(), null)
  })

  test('an unsigned call naming a device that signs is refused, and logged against it', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Someone' }
    const response = await client.post('/faces/api/clinetFeedback').form(fields)
    assert.deepEqual(response.body(), { flag: 'clinetfeedback', code: 9001, message: notProven })
    assert.equal(await countRows('access_events'), 0)
    const refusals = await new DeviceRefusals().of(device.id)
    assert.equal(refusals.total, 1)
    assert.include(refusals.recent[0], {
      address: '127.0.0.1',
      endpoint: 'clinetFeedback',
      reason: 'unsigned, and the device is not in legacy mode',
    })
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
      const fields = { deviceName: device.name, deviceSN: device.serialNumber }
      await post(client, 'clinetWebResult', fields, 'form', device)
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
    const blocked = await DeviceFactory.apply('approved').apply('blocked').create()
    const pending = await DeviceFactory.create()
    const refused = await post(
      client,
      'token',
      { deviceName: blocked.name, sn: blocked.serialNumber },
      'form',
      blocked
    )
    assert.equal(refused.body().code, 9001)
    await client
      .post('/faces/api/token')
      .form({ deviceName: pending.name, sn: pending.serialNumber })
    await client.post('/faces/api/token').form({ deviceName: 'Newcomer', sn: 'SN-NEWCOMER' })
    await presence.flush()
    for (const device of [blocked, pending]) {
      await device.refresh()
      assert.isNotNull(device.lastSeenAt)
      assert.equal(device.lastSeenAddress, '127.0.0.1')
    }
    const newcomer = await Device.findByOrFail('serialNumber', 'SN-NEWCOMER')
    assert.equal(newcomer.lastSeenAddress, '127.0.0.1')
  })

  test('a call that only names a device is not seen: a pending device with another name', async ({
    client,
    assert,
  }) => {
    const presence = new DevicePresence()
    await presence.flush()
    const pending = await DeviceFactory.create()
    const answer = await client
      .post('/faces/api/token')
      .form({ deviceName: 'Posing as it', sn: pending.serialNumber })
    assert.deepEqual(answer.body(), { flag: 'token', code: 9001, message: notProven })
    await presence.flush()
    await pending.refresh()
    assert.isNull(pending.lastSeenAt)
    assert.equal(await countRows('devices'), 1)
  })
})

test.group('Terminal protocol: signature headers and the enrolment permission', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  /**
   * A getDbs call of the device with a fresh token, signed at `timestamp`;
   * `headers` spoils the signature headers sent.
   */
  async function getDbsCall(
    client: ApiClient,
    device: Device,
    options: {
      timestamp?: number
      headers?: (headers: Record<string, string>) => Record<string, string>
    } = {}
  ) {
    const path = '/faces/api/getDbs'
    const fields = {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      token: await tokenFor(client, device),
    }
    const { body, contentType } = encodeBody(fields, 'form')
    const headers = signCall(credentialOf(device), { method: 'POST', path, body }, options)
    const sent = options.headers ? options.headers(headers) : headers
    return rawPost(client, path, body, { 'content-type': contentType, ...sent })
  }

  test('a stale or future timestamp is 7 and names the server clock', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const now = Math.floor(Date.now() / 1000)
    const skew = terminalConfig.auth.maxSkewSeconds + 60
    for (const timestamp of [now - skew, now + skew]) {
      const response = await getDbsCall(client, device, { timestamp })
      assert.include(response.body(), { flag: 'getDbs', code: 7 })
      assert.match(
        response.body().message,
        /X-Device-Timestamp is \d+ s (behind|ahead of) the server's clock/
      )
    }
    const onTime = await getDbsCall(client, device, { timestamp: now - 30 })
    assert.equal(onTime.body().code, 0)
  })

  test('signature headers of the wrong shape are 2 and named: {header}')
    .with([
      { header: 'x-device-nonce', value: 'short', name: 'X-Device-Nonce' },
      { header: 'x-device-timestamp', value: 'noon', name: 'X-Device-Timestamp' },
      { header: 'x-device-content-sha256', value: 'abc', name: 'X-Device-Content-SHA256' },
      { header: 'x-device-signature', value: 'not hex', name: 'X-Device-Signature' },
    ])
    .run(async ({ client, assert }, { header, value, name }) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await getDbsCall(client, device, {
        headers: (headers) => ({ ...headers, [header]: value }),
      })
      assert.include(response.body(), { flag: 'getDbs', code: 2 })
      assert.include(response.body().message, `the ${name} header must be`)
    })

  test('regFace is off until an operator allows enrolment', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const picture = await readFile(app.makePath('tests/fixtures/faces/sheldon.png'))
    const enrol = () =>
      post(
        client,
        'regFace',
        {
          deviceName: device.name,
          deviceSN: device.serialNumber,
          username: 'sheldon',
          faceName: 'Sheldon',
          picBase64: picture.toString('base64'),
        },
        'form',
        device
      )
    const refused = await enrol()
    assert.include(refused.body(), { flag: 'regFace', code: 9001 })
    assert.match(refused.body().message, /lacks the enrolment permission/)
    assert.equal(await countRows('people'), 0)
    const refusals = await new DeviceRefusals().of(device.id)
    assert.include(refusals.recent[0], { endpoint: 'regFace', reason: 'no enrolment permission' })

    device.permissions = [...device.allowed, 'enrolment']
    device.config = { enrolmentConsentVersion: 'kiosk-v1' }
    await device.save()
    const allowed = await enrol()
    assert.include(allowed.body(), { flag: 'regFace', code: 0, created: true })
    assert.equal(await countRows('people'), 1)
  })
})
