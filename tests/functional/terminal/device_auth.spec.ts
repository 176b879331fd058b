import { execFile } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { promisify } from 'node:util'
import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { commandLineActor } from '#services/audit_trail'
import { DeviceCredentials } from '#services/device_credentials'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { PendingDeviceCap } from '#services/terminal/pending_device_cap'
import { deviceAuthentication } from '#services/terminal/terminal_api_reference'
import { encodeBody, FacesApiClient, signCall } from '#terminal-client/faces_api_client'
import {
  addFace,
  countRows,
  credentialOf,
  grant,
  post,
  rawPost,
  resetTerminalState,
  serverUrl,
  signedPost,
  tokenFor,
} from '#tests/helpers/terminal'

const run = promisify(execFile)

const photo = (name: string) => readFile(app.makePath('tests/fixtures/faces', name))

/** What an attacker reads on a terminal's label. */
const label = (device: Device) => ({ deviceName: device.name, deviceSN: device.serialNumber })

/** Runs `work` with settings of terminalConfig.auth changed, restoring them after the test. */
function withAuthSettings(
  cleanup: (handler: () => void) => void,
  settings: Partial<typeof terminalConfig.auth>
) {
  const before = { ...terminalConfig.auth }
  Object.assign(terminalConfig.auth, settings)
  cleanup(() => Object.assign(terminalConfig.auth, before))
}

/** A POST from another local address than the test client's (127.0.0.1). */
function postFrom(localAddress: string, path: string, fields: Record<string, string>) {
  const { body, contentType } = encodeBody(fields, 'form')
  const url = new URL(path, serverUrl)
  return new Promise<{ code: number; message: string }>((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': contentType } },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())))
      }
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

async function snapshotOfDatabase() {
  return {
    people: await countRows('people'),
    faces: await countRows('faces'),
    events: await countRows('access_events'),
    devices: await countRows('devices'),
    reviews: await countRows('enrolment_reviews'),
  }
}

test.group('Terminal protocol: a stranger who read the label', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('cannot enrol a face onto an employee or rename them through regFace', async ({
    client,
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').apply('enrolling').create()
    const employee = await PersonFactory.merge({ username: 'ada', displayName: 'Ada' }).create()
    await addFace(employee)
    await grant([employee], [lobby])
    const before = await snapshotOfDatabase()
    const fields = {
      ...label(lobby),
      username: 'ada',
      faceName: 'Mallory',
      picBase64: await readFile(app.makePath('tests/fixtures/faces/sheldon.png'), 'base64'),
    }

    for (const encoding of ['form', 'multipart', 'json'] as const) {
      const response = await post(client, 'regFace', fields, encoding)
      assert.include(response.body(), { flag: 'regFace', code: 9001 })
    }
    const token = await tokenFor(client, lobby)
    const withToken = await post(client, 'regFace', { ...fields, token }, 'form')
    assert.include(withToken.body(), { code: 9001 })

    assert.deepEqual(await snapshotOfDatabase(), before)
    await employee.refresh()
    assert.equal(employee.displayName, 'Ada')
    const refusals = await new DeviceRefusals().of(lobby.id)
    assert.equal(refusals.total, 4)
    assert.include(refusals.recent[0], { address: '127.0.0.1', endpoint: 'regFace' })
  })

  test('cannot download the face database, report a passage or read the last result', async ({
    client,
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const employee = await PersonFactory.create()
    await addFace(employee)
    await grant([employee], [lobby])
    const before = await snapshotOfDatabase()

    const dbs = await post(client, 'getDbs', { ...label(lobby), token: 'a'.repeat(40) }, 'form')
    assert.include(dbs.body(), { flag: 'getDbs', code: 9001 })
    assert.notProperty(dbs.body(), 'names')
    const feedback = await post(
      client,
      'clinetFeedback',
      { ...label(lobby), faceName: employee.displayName, username: employee.username },
      'form'
    )
    assert.include(feedback.body(), { flag: 'clinetfeedback', code: 9001 })
    const result = await post(client, 'clinetWebResult', label(lobby), 'form')
    assert.include(result.body(), { flag: 'clinetwebresult', code: 9001 })
    for (const answer of [feedback.body(), result.body()]) {
      assert.notProperty(answer, 'faceName')
      assert.notProperty(answer, 'eventId')
    }
    assert.deepEqual(await snapshotOfDatabase(), before)
    assert.equal(await AccessEvent.query().where('device_id', lobby.id).first(), null)
  })

  test('cannot use a token it sniffed: tokens serve only calls signed by their device', async ({
    client,
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const side = await DeviceFactory.apply('approved').create()
    const sniffed = await tokenFor(client, lobby)

    const unsigned = await post(client, 'getDbs', { ...label(lobby), token: sniffed }, 'form')
    assert.include(unsigned.body(), { code: 9001 })
    const otherDevice = await post(
      client,
      'getDbs',
      { ...label(side), token: sniffed },
      'form',
      side
    )
    assert.include(otherDevice.body(), { code: 7 })
    const owner = await post(client, 'getDbs', { ...label(lobby), token: sniffed }, 'form', lobby)
    assert.include(owner.body(), { code: 0 }, 'the refused attempts did not spend the token')
  })

  test('answers do not tell which names and serial numbers exist', async ({ client, assert }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const pending = await DeviceFactory.create()
    const other = await DeviceFactory.apply('approved').create()
    const guesses = {
      'unknown name and serial': { deviceName: 'Nobody', deviceSN: 'SN-NOBODY' },
      'an approved device': label(lobby),
      'a pending device': label(pending),
      'known serial, other name': { deviceName: 'Nobody', deviceSN: lobby.serialNumber },
      'known name, other serial': { deviceName: lobby.name, deviceSN: 'SN-NOBODY' },
      "two devices' name and serial": { deviceName: lobby.name, deviceSN: other.serialNumber },
    }
    for (const endpoint of ['clinetWebResult', 'token'] as const) {
      const answers = new Set<string>()
      for (const [guess, fields] of Object.entries(guesses)) {
        const body =
          endpoint === 'token' ? { deviceName: fields.deviceName, sn: fields.deviceSN } : fields
        const response = await post(client, endpoint, body, 'form')
        response.assertStatus(200)
        const { code, message } = response.body()
        assert.equal(code, 9001, `${endpoint}, ${guess}`)
        answers.add(message)
      }
      assert.equal(answers.size, 1, `${endpoint} answers differ: ${[...answers].join(' | ')}`)
    }
  })

  test('cannot lock the real terminal out by flooding its serial number', async ({
    client,
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const flood = { deviceName: 'Wrong name', sn: lobby.serialNumber }
    const codes: number[] = []
    for (let i = 0; i < 200; i++) {
      const response = await post(client, 'token', flood, 'form')
      codes.push(response.body().code)
    }
    assert.equal(
      codes.filter((code) => code === 9001).length,
      terminalConfig.auth.refusedPerAddressPerMinute
    )
    assert.equal(
      codes.filter((code) => code === 8).length,
      200 - terminalConfig.auth.refusedPerAddressPerMinute
    )

    for (let i = 0; i < 50; i++) {
      const token = await tokenFor(client, lobby)
      assert.match(token, /^[0-9a-f]{40}$/)
    }
  })

  test('inventing serial numbers registers a capped number of pending devices', async ({
    client,
    assert,
    cleanup,
  }) => {
    withAuthSettings(cleanup, {
      pendingPerAddress: 5,
      pendingTotal: 8,
      refusedPerAddressPerMinute: 1000,
    })
    const codes = new Set<number>()
    for (let i = 0; i < 100; i++) {
      const response = await post(
        client,
        'token',
        { deviceName: `Fake ${i}`, sn: `SN-FAKE-${i}` },
        'form'
      )
      codes.add(response.body().code)
    }
    assert.deepEqual([...codes], [9001])
    assert.equal(await countRows('devices'), 5)

    await DeviceFactory.createMany(3)
    const elsewhere = await postFrom('127.0.0.2', '/faces/api/token', {
      deviceName: 'Fake elsewhere',
      sn: 'SN-FAKE-ELSEWHERE',
    })
    assert.equal(elsewhere.code, 9001)
    assert.equal(await countRows('devices'), 8, 'the total cap holds for every address')

    const cap = await new PendingDeviceCap().status()
    assert.include(cap, { pending: 8, total: 8, perAddress: 5 })
    assert.isAbove(cap.refused, 90)
    assert.equal(cap.lastRefusedAddress, '127.0.0.2')
  })
})

test.group('Terminal protocol: signed calls', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('the repository terminal client works through token, getDbs, faceIdentify and feedback', async ({
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await grant([person], [lobby])
    const terminal = new FacesApiClient(serverUrl, {
      deviceName: lobby.name,
      ...credentialOf(lobby),
    })
    const dbs = await terminal.getDbs()
    assert.include(dbs, { flag: 'getDbs', code: 0, full: true })
    const identified = await terminal.faceIdentify(await photo('penny.png'))
    assert.include(identified, { flag: 'faceidentify', code: 0, decision: 'denied' })
    const reported = await terminal.clinetFeedback({
      faceName: person.displayName,
      username: person.username,
    })
    assert.include(reported, { flag: 'clinetfeedback', code: 0, decision: 'granted' })
  })

  test('a forged, replayed, stale or altered call is refused: {case}')
    .with([
      {
        case: 'another secret',
        code: 9001,
        proof: (headers: Record<string, string>, body: Buffer, device: Device) => ({
          ...headers,
          ...signCall(
            { serialNumber: device.serialNumber, secret: DeviceCredentials.generate() },
            { method: 'POST', path: '/faces/api/token', body }
          ),
        }),
      },
      {
        case: 'signed for another path',
        code: 9001,
        proof: (_: Record<string, string>, body: Buffer, device: Device) =>
          signCall(credentialOf(device), { method: 'POST', path: '/faces/api/getDbs', body }),
      },
      {
        case: 'a timestamp ten minutes old',
        code: 7,
        proof: (_: Record<string, string>, body: Buffer, device: Device) =>
          signCall(
            credentialOf(device),
            { method: 'POST', path: '/faces/api/token', body },
            { timestamp: Math.floor(Date.now() / 1000) - 600 }
          ),
      },
      {
        case: 'a body changed on the way',
        code: 2,
        proof: (_: Record<string, string>, body: Buffer, device: Device) =>
          signCall(credentialOf(device), {
            method: 'POST',
            path: '/faces/api/token',
            body: Buffer.concat([body, Buffer.from('&x=1')]),
          }),
      },
      {
        case: 'a signature without its nonce',
        code: 2,
        proof: (headers: Record<string, string>) => {
          const rest = { ...headers }
          delete rest['x-device-nonce']
          return rest
        },
      },
    ])
    .run(async ({ client, assert }, { code, proof }) => {
      const lobby = await DeviceFactory.apply('approved').create()
      const { body, contentType } = encodeBody(
        { deviceName: lobby.name, sn: lobby.serialNumber },
        'form'
      )
      const honest = signCall(credentialOf(lobby), {
        method: 'POST',
        path: '/faces/api/token',
        body,
      })
      const response = await rawPost(client, '/faces/api/token', body, {
        'content-type': contentType,
        ...proof(honest, body, lobby),
      })
      assert.include(response.body(), { flag: 'token', code })
      assert.notProperty(response.body(), 'token')
    })

  test('the curl and openssl example of the docs gets a token', async ({ assert }) => {
    const lobby = await DeviceFactory.apply('approved')
      .merge({ name: 'Lobby east', serialNumber: 'FT2024A00017' })
      .create()
    const script = deviceAuthentication.shellExample
      .replace("SECRET='fa1_…'", `SECRET='${credentialOf(lobby).secret}'`)
      .replace('SERVER=http://10.0.0.5:3333', `SERVER=${serverUrl}`)
    const { stdout } = await run('bash', ['-c', script])
    assert.include(JSON.parse(stdout), { flag: 'token', code: 0 })
  })

  test('a replayed call is refused even within the time window', async ({ client, assert }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const { body, contentType } = encodeBody(
      { deviceName: lobby.name, sn: lobby.serialNumber },
      'form'
    )
    const headers = {
      'content-type': contentType,
      ...signCall(credentialOf(lobby), { method: 'POST', path: '/faces/api/token', body }),
    }
    const first = await rawPost(client, '/faces/api/token', body, headers)
    assert.include(first.body(), { code: 0 })
    const replay = await rawPost(client, '/faces/api/token', body, headers)
    assert.include(replay.body(), { code: 9001 })
    assert.match(replay.body().message, /used already/)
  })

  test('a signed call whose fields name another device is 9004', async ({ client, assert }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const side = await DeviceFactory.apply('approved').create()
    const response = await signedPost(
      client,
      'token',
      { deviceName: side.name, sn: side.serialNumber },
      'form',
      lobby
    )
    assert.include(response.body(), { code: 9004 })
  })

  test('a rotated credential refuses the old secret and accepts the new; a revoked one refuses both', async ({
    client,
    assert,
  }) => {
    const lobby = await DeviceFactory.apply('approved').create()
    const credentials = await app.container.make(DeviceCredentials)
    const old = credentialOf(lobby)
    const ask = async (secret: string) => {
      const { body, contentType } = encodeBody(
        { deviceName: lobby.name, sn: lobby.serialNumber },
        'form'
      )
      const headers = signCall(
        { serialNumber: lobby.serialNumber, secret },
        { method: 'POST', path: '/faces/api/token', body }
      )
      const response = await rawPost(client, '/faces/api/token', body, {
        'content-type': contentType,
        ...headers,
      })
      return response.body().code as number
    }
    assert.equal(await ask(old.secret), 0)

    const fresh = await credentials.issue(commandLineActor(), lobby)
    assert.equal(await ask(old.secret), 9001)
    assert.equal(await ask(fresh), 0)

    await credentials.revoke(commandLineActor(), lobby)
    assert.equal(await ask(fresh), 9001)
    assert.equal(await ask(old.secret), 9001)
  })

  test('endpoint permissions: a device may call only what it is allowed', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved')
      .merge({ permissions: ['feedback'] })
      .create()
    const dbs = await post(
      client,
      'getDbs',
      { ...label(device), token: await tokenFor(client, device) },
      'form',
      device
    )
    assert.include(dbs.body(), { code: 9001 })
    assert.match(dbs.body().message, /may not call getDbs .*database permission/)
    const detect = await post(
      client,
      'faceDetect',
      { token: await tokenFor(client, device) },
      'multipart',
      device,
      {
        image: { data: await photo('penny.png') },
      }
    )
    assert.include(detect.body(), { code: 9001 })
    const result = await post(client, 'clinetWebResult', label(device), 'form', device)
    assert.include(result.body(), { code: 0 })
  })

  test('a legacy device works unsigned from its pinned address only', async ({
    client,
    assert,
  }) => {
    const gate = await DeviceFactory.apply('approved').apply('legacy').create()
    const pinnedHere = await post(
      client,
      'token',
      { deviceName: gate.name, sn: gate.serialNumber },
      'form'
    )
    assert.include(pinnedHere.body(), { code: 0 })

    const elsewhere = await postFrom('127.0.0.2', '/faces/api/token', {
      deviceName: gate.name,
      sn: gate.serialNumber,
    })
    assert.equal(elsewhere.code, 9001)
    const refusals = await new DeviceRefusals().of(gate.id)
    assert.include(refusals.recent[0], { address: '127.0.0.2', endpoint: 'token' })
    assert.match(refusals.recent[0].reason, /not from the pinned address/)
  })

  test('a busy door is never throttled; a flood is, with 8 and Retry-After', async ({
    client,
    assert,
    cleanup,
  }) => {
    // A three-second window scales the per-minute limit down with it (600 a
    // minute is 30 in three seconds): the door's recognition every half
    // second (token, faceIdentify, token, clinetFeedback) for six windows is
    // what it does for six minutes, in eighteen seconds.
    withAuthSettings(cleanup, { rateWindowSeconds: 3 })
    const door = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await grant([person], [door])
    const picture = await photo('penny.png')
    const refusals: number[] = []
    const started = Date.now()
    for (let recognition = 0; recognition < 36; recognition++) {
      const due = started + recognition * 500
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())))
      const identify = await post(
        client,
        'faceIdentify',
        { token: await tokenFor(client, door) },
        'multipart',
        door,
        { image: { data: picture } }
      )
      const feedback = await post(
        client,
        'clinetFeedback',
        {
          ...label(door),
          faceName: person.displayName,
          username: person.username,
          token: await tokenFor(client, door),
        },
        'form',
        door
      )
      for (const response of [identify, feedback]) {
        if (response.body().code !== 0) refusals.push(response.body().code)
      }
    }
    assert.deepEqual(refusals, [])

    let throttled = null
    for (let i = 0; i < 40 && !throttled; i++) {
      const response = await post(
        client,
        'token',
        { deviceName: door.name, sn: door.serialNumber },
        'form',
        door
      )
      if (response.body().code === 8) throttled = response
    }
    assert.exists(throttled, 'twenty calls a second were never throttled')
    throttled!.assertStatus(429)
    assert.isAbove(Number(throttled!.header('retry-after')), 0)
  })
})
