import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import terminalConfig from '#config/terminal'
import { commandLineActor } from '#services/audit_trail'
import { DeviceService } from '#services/device_service'
import { TokenThrottle } from '#services/terminal/token_throttle'
import {
  countRows,
  encodings,
  notProven,
  post,
  resetTerminalState,
  tokenFor,
} from '#tests/helpers/terminal'

test.group('Terminal protocol: tokens', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('an approved device gets a 40-hex token ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await post(
        client,
        'token',
        { deviceName: device.name, sn: device.serialNumber },
        encoding,
        device
      )
      response.assertStatus(200)
      assert.equal(response.header('content-type'), 'application/json; charset=utf-8')
      assert.include(response.body(), { flag: 'token', code: 0, expiresIn: 300 })
      assert.match(response.body().token, /^[0-9a-f]{40}$/)
      assert.isString(response.body().message)
    })

  test('a device never seen before is registered as pending and refused until approved', async ({
    client,
    assert,
  }) => {
    const fields = { deviceName: 'Lobby 门禁 1', sn: 'SN-NEW-1' }
    const first = await client.post('/faces/api/token').form(fields)
    assert.include(first.body(), { flag: 'token', code: 9001, message: notProven })

    const device = await Device.findByOrFail('serialNumber', 'SN-NEW-1')
    assert.equal(device.status, 'pending')
    assert.equal(device.name, 'Lobby 门禁 1')
    assert.isFalse(device.hasCredential)
    const entry = await AuditLog.findByOrFail('action', 'device.register')
    assert.equal(entry.actor, 'device:SN-NEW-1')

    const again = await client.post('/faces/api/token').form(fields)
    assert.include(again.body(), { code: 9001, message: notProven })
    assert.equal(await countRows('devices'), 1)

    const devices = await app.container.make(DeviceService)
    const approval = await devices.approve(commandLineActor(), device)
    assert.isTrue(approval.ok && approval.secret !== null)
    const unsigned = await client.post('/faces/api/token').form(fields)
    assert.include(unsigned.body(), { code: 9001, message: notProven })
    const signed = await post(client, 'token', fields, 'form', device)
    assert.equal(signed.body().code, 0)
  })

  test('a blocked device is refused with 9001; only its signed call hears why', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('blocked').create()
    const fields = { deviceName: device.name, sn: device.serialNumber }
    const response = await post(client, 'token', fields, 'json', device)
    assert.include(response.body(), { flag: 'token', code: 9001 })
    assert.match(response.body().message, /blocked/)
    assert.notProperty(response.body(), 'token')

    const unsigned = await client.post('/faces/api/token').json(fields)
    assert.include(unsigned.body(), { flag: 'token', code: 9001, message: notProven })
    assert.notProperty(unsigned.body(), 'token')
  })

  test('unsigned, a name and serial number of different devices is the same 9001 as an unknown one, and nothing is registered', async ({
    client,
    assert,
  }) => {
    const east = await DeviceFactory.apply('approved').create()
    const west = await DeviceFactory.apply('approved').create()
    const answers = [
      await client.post('/faces/api/token').form({ deviceName: east.name, sn: west.serialNumber }),
      await client
        .post('/faces/api/token')
        .form({ deviceName: 'Not its name', sn: east.serialNumber }),
      await client.post('/faces/api/token').form({ deviceName: west.name, sn: 'SN-UNKNOWN' }),
      await client.post('/faces/api/token').form({ deviceName: east.name, sn: east.serialNumber }),
    ]
    for (const answer of answers) {
      assert.deepEqual(answer.body(), { flag: 'token', code: 9001, message: notProven })
    }
    assert.equal(await countRows('devices'), 2)
  })

  test('signed, fields that name another device than the signature are 9004', async ({
    client,
    assert,
  }) => {
    const east = await DeviceFactory.apply('approved').create()
    const west = await DeviceFactory.apply('approved').create()
    const crossed = await post(
      client,
      'token',
      { deviceName: east.name, sn: west.serialNumber },
      'form',
      east
    )
    assert.include(crossed.body(), { flag: 'token', code: 9004 })
    assert.notProperty(crossed.body(), 'token')

    const renamed = await post(
      client,
      'token',
      { deviceName: 'Not its name', sn: east.serialNumber },
      'form',
      east
    )
    assert.equal(renamed.body().code, 9004)
    assert.match(renamed.body().message, new RegExp(`whose name is "${east.name}"`))

    const taken = await post(
      client,
      'token',
      { deviceName: 'Gate Z', sn: 'SN-UNKNOWN' },
      'json',
      west
    )
    assert.equal(taken.body().code, 9004)
    assert.equal(await countRows('devices'), 2)
  })

  test('no body at all is 9002 ({$self})')
    .with(['empty form', 'empty JSON object', 'GET'] as const)
    .run(async ({ client, assert }, variant) => {
      const response =
        variant === 'GET'
          ? await client.get('/faces/api/token')
          : variant === 'empty form'
            ? await client.post('/faces/api/token').form({})
            : await client.post('/faces/api/token').json({})
      assert.include(response.body(), { flag: 'token', code: 9002 })
    })

  test('missing fields are 9005 and name the fields ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const response = await post(client, 'token', { deviceName: 'Gate A', sn: '' }, encoding)
      assert.include(response.body(), { flag: 'token', code: 9005 })
      assert.match(response.body().message, /^Incomplete parameters: missing sn$/)
    })

  test('fields of the wrong shape are 2', async ({ client, assert }) => {
    const slash = await client.post('/faces/api/token').form({ deviceName: 'Gate/1', sn: 'SN-1' })
    assert.include(slash.body(), { code: 2 })
    assert.match(slash.body().message, /deviceName must be/)

    const numeric = await client.post('/faces/api/token').json({ deviceName: 'Gate 1', sn: 1234 })
    assert.include(numeric.body(), { code: 2 })

    const long = await client
      .post('/faces/api/token')
      .form({ deviceName: 'G'.repeat(65), sn: 'SN-1' })
    assert.include(long.body(), { code: 2 })
    assert.equal(await countRows('devices'), 0)
  })

  test('calls are limited per device, every endpoint counted, and token requests per address', async ({
    client,
    assert,
    cleanup,
  }) => {
    app.container.swap(
      TokenThrottle,
      () => new TokenThrottle({ ...terminalConfig.tokens, perAddressPerMinute: 5 })
    )
    const perDevice = terminalConfig.auth.perDevicePerMinute
    terminalConfig.auth.perDevicePerMinute = 3
    cleanup(() => {
      app.container.restore(TokenThrottle)
      terminalConfig.auth.perDevicePerMinute = perDevice
    })
    const device = await DeviceFactory.apply('approved').create()
    const other = await DeviceFactory.apply('approved').create()
    const ask = (target: Device) =>
      post(client, 'token', { deviceName: target.name, sn: target.serialNumber }, 'form', target)
    const codeOf = async (target: Device) => {
      const response = await ask(target)
      return response.body().code
    }

    const token = await tokenFor(client, device)
    const dbs = await post(
      client,
      'getDbs',
      { deviceName: device.name, deviceSN: device.serialNumber, token },
      'form',
      device
    )
    assert.equal(dbs.body().code, 0)
    assert.equal(await codeOf(device), 0)
    const limited = await ask(device)
    limited.assertStatus(429)
    assert.include(limited.body(), { flag: 'token', code: 8 })
    assert.match(limited.body().message, /too many calls/)
    assert.isAbove(Number(limited.header('retry-after')), 0)

    assert.equal(await codeOf(other), 0)
    assert.equal(await codeOf(other), 0)
    const addressLimited = await ask(other)
    addressLimited.assertStatus(429)
    assert.include(addressLimited.body(), { code: 8 })
    assert.match(addressLimited.body().message, /too many token requests/)
  })
})
