import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import {
  addFace,
  countRows,
  encodings,
  grant,
  notProven,
  post,
  resetTerminalState,
  tokenFor,
} from '#tests/helpers/terminal'

const photo = () => readFile(app.makePath('tests/fixtures/pairs/kit_harington_02.jpg'))

/**
 * Firmware that cannot sign sends its name and serial number only, as the
 * original protocol has it; an operator approves it in legacy mode, pinned
 * to the address it calls from. The tests call from 127.0.0.1.
 */
test.group('Terminal protocol: legacy devices', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a legacy device calls unsigned from its pinned address ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('legacy').merge({ status: 'approved' }).create()
      const person = await PersonFactory.merge({ displayName: 'Ada Lovelace' }).create()
      await addFace(person)
      await grant([person], [device])
      const names = { deviceName: device.name, deviceSN: device.serialNumber }

      const token = await post(
        client,
        'token',
        { deviceName: device.name, sn: device.serialNumber },
        encoding
      )
      assert.include(token.body(), { flag: 'token', code: 0 })
      const dbs = await post(client, 'getDbs', { ...names, token: token.body().token }, encoding)
      assert.include(dbs.body(), { flag: 'getDbs', code: 0, full: true })
      assert.deepEqual(
        dbs.body().names.map((entry: { username: string }) => entry.username),
        [person.username]
      )

      const feedback = await post(
        client,
        'clinetFeedback',
        { ...names, faceName: 'Ada Lovelace', username: person.username },
        encoding
      )
      assert.include(feedback.body(), { flag: 'clinetfeedback', code: 0, decision: 'granted' })
      const event = await AccessEvent.findOrFail(feedback.body().eventId)
      assert.equal(event.deviceId, device.id)

      const latest = await post(client, 'clinetWebResult', names, encoding)
      assert.include(latest.body(), {
        flag: 'clinetwebresult',
        code: 0,
        faceName: 'Ada Lovelace',
        username: person.username,
      })

      const image = await photo()
      const detected = await post(
        client,
        'faceDetect',
        encoding === 'multipart'
          ? { token: await tokenFor(client, device) }
          : { token: await tokenFor(client, device), image: image.toString('base64') },
        encoding,
        device,
        encoding === 'multipart' ? { image: { data: image, filename: 'visitor.jpg' } } : undefined
      )
      assert.include(detected.body(), { flag: 'facedetect', code: 0, faces: 1 })
      const refusals = await new DeviceRefusals().of(device.id)
      assert.equal(refusals.total, 0)
    })

  test('the same device pinned to another address is refused 9001, and nothing is recorded', async ({
    client,
    assert,
  }) => {
    const presence = new DevicePresence()
    await presence.flush()
    const device = await DeviceFactory.apply('legacy').merge({ status: 'approved' }).create()
    const person = await PersonFactory.create()
    await addFace(person)
    await grant([person], [device])
    const issuedHere = await tokenFor(client, device)
    await presence.flush()
    await device.refresh()
    const seenAt = device.lastSeenAt!.toMillis()

    device.pinnedAddress = '10.0.0.9'
    await device.save()
    const names = { deviceName: device.name, deviceSN: device.serialNumber }
    const answers = [
      await post(client, 'token', { deviceName: device.name, sn: device.serialNumber }, 'form'),
      await post(client, 'getDbs', { ...names, token: issuedHere }, 'json'),
      await post(
        client,
        'clinetFeedback',
        { ...names, faceName: 'Anyone', username: person.username },
        'form'
      ),
      await post(client, 'clinetWebResult', names, 'form'),
      await post(client, 'faceDetect', { token: issuedHere }, 'multipart', undefined, {
        image: { data: await photo(), filename: 'visitor.jpg' },
      }),
    ]
    for (const answer of answers) {
      assert.include(answer.body(), { code: 9001, message: notProven })
      assert.notProperty(answer.body(), 'token')
      assert.notProperty(answer.body(), 'names')
    }

    assert.equal(await countRows('access_events'), 0)
    await presence.flush()
    await device.refresh()
    assert.equal(device.lastSeenAt!.toMillis(), seenAt, 'refused calls are not presence')
    const refusals = await new DeviceRefusals().of(device.id)
    assert.equal(refusals.total, answers.length)
    for (const refusal of refusals.recent) {
      assert.equal(refusal.reason, 'unsigned from 127.0.0.1, not from the pinned address')
    }
  })

  test('a token serves only a call that proves itself as the one that got it did', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('legacy').create()
    const names = { deviceName: device.name, deviceSN: device.serialNumber }
    const signed = await tokenFor(client, device)
    const unsignedCall = await post(client, 'getDbs', { ...names, token: signed }, 'form')
    assert.include(unsignedCall.body(), { flag: 'getDbs', code: 7 })
    assert.match(unsignedCall.body().message, /under another proof/)

    const legacy = await post(
      client,
      'token',
      { deviceName: device.name, sn: device.serialNumber },
      'form'
    )
    assert.equal(legacy.body().code, 0)
    const signedCall = await post(
      client,
      'getDbs',
      { ...names, token: legacy.body().token },
      'form',
      device
    )
    assert.include(signedCall.body(), { flag: 'getDbs', code: 7 })
    assert.match(signedCall.body().message, /under another proof/)
  })

  test('a legacy device may call only what it was allowed', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('legacy')
      .merge({ status: 'approved', permissions: ['database'] })
      .create()
    const names = { deviceName: device.name, deviceSN: device.serialNumber }
    const dbs = await post(
      client,
      'getDbs',
      { ...names, token: await tokenFor(client, device) },
      'form'
    )
    assert.equal(dbs.body().code, 0)
    const feedback = await post(client, 'clinetFeedback', { ...names, faceName: 'X' }, 'form')
    assert.include(feedback.body(), { flag: 'clinetfeedback', code: 9001 })
    assert.match(feedback.body().message, /lacks the feedback permission/)
    assert.equal(await countRows('access_events'), 0)
  })
})
