import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import AuditLog from '#models/audit_log'
import Device from '#models/device'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { DeviceCredentials } from '#services/device_credentials'
import { DevicePairingService } from '#services/device_pairing_service'
import { toSqlDateTime } from '#services/sql_time'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import { generatePairingKey, pairDevice, PairingError } from '#terminal-client/pairing_client'
import { resetTerminalState, serverUrl } from '#tests/helpers/terminal'

type PairAnswer = { flag: string; code: number; message: string } & Record<string, any>

/** One unsigned /faces/api/pair call, as a terminal makes it, with its HTTP status. */
async function pairCall(fields: Record<string, string>) {
  const response = await fetch(`${serverUrl}/faces/api/pair`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  })
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as PairAnswer,
  }
}

/** The answer of a /faces/api/pair call. */
async function pair(fields: Record<string, string>) {
  const { body } = await pairCall(fields)
  return body
}

function terminal(serial: string, name = `Agent ${serial}`) {
  return { deviceName: name, sn: serial, pairingKey: generatePairingKey() }
}

async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function aceKernel() {
  const ace = await app.container.make('ace')
  ace.ui.switchMode('raw')
  return ace
}

test.group('Terminal agent: pairing', (group) => {
  const agent = { ...terminalConfig.agent }
  const auth = { ...terminalConfig.auth }
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => () => {
    Object.assign(terminalConfig.agent, agent)
    Object.assign(terminalConfig.auth, auth)
  })

  test('a terminal pairs through the code on its screen and signs with the credential it receives', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const pairingKey = generatePairingKey()
    const codes: string[] = []
    const paired = pairDevice({
      serverUrl,
      deviceName: 'Lobby agent',
      serial: 'AGENT-0001',
      pairingKey,
      pollMs: 50,
      onCode: (code) => codes.push(code),
    })

    await until(() => codes.length > 0, 'the code was shown')
    assert.match(codes[0], /^[0-9]{6}$/)
    assert.equal(codes[0], DevicePairingService.codeFor(pairingKey))
    const device = await Device.findByOrFail('serialNumber', 'AGENT-0001')
    assert.equal(device.status, 'pending')
    assert.isFalse(device.hasCredential)

    const page = await client.get('/admin/devices').loginAs(operator)
    page.assertStatus(200)
    page.assertTextIncludes('data-test="pairing-waiting"')
    page.assertTextIncludes('<code>127.0.0.1</code>')
    assert.notInclude(page.text(), codes[0], 'the page never shows the code: the terminal does')

    const approved = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ device: String(device.id), code: codes[0] })
      .redirects(0)
    approved.assertStatus(302)
    approved.assertFlashMessage(
      'success',
      'Lobby agent is paired: the terminal receives its credential with its next call.'
    )

    const credential = await paired
    assert.match(credential, /^fa1_/)
    await device.refresh()
    assert.equal(device.status, 'approved')
    assert.equal(credential, DeviceCredentials.secretOf(device))

    const api = new FacesApiClient(serverUrl, {
      deviceName: 'Lobby agent',
      serialNumber: 'AGENT-0001',
      secret: credential,
    })
    assert.match(await api.token(), /^[0-9a-f]{40}$/)

    const again = await pair({ deviceName: 'Lobby agent', sn: 'AGENT-0001', pairingKey })
    assert.include(again, { code: 0, state: 'delivered' })
    assert.notProperty(again, 'credential')
    const rows = await db.from('device_pairings').where('device_id', device.id)
    assert.deepEqual(
      rows.map((row) => [row.state, row.credential_secret]),
      [['delivered', null]]
    )
    const entry = await AuditLog.findByOrFail('action', 'device.pairing.approve')
    assert.equal(entry.userId, operator.id)
    assert.include(entry.after as object, { address: '127.0.0.1', otherRequestsRefused: 0 })
  })

  test('of two requests for one serial number only the one showing the code is paired, once', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const genuine = terminal('AGENT-0002')
    const impostor = { ...genuine, pairingKey: generatePairingKey() }
    const first = await pair(genuine)
    const second = await pair(impostor)
    assert.include(first, { flag: 'pair', code: 0, state: 'waiting' })
    assert.include(second, { code: 0, state: 'waiting' })
    assert.notEqual(first.pairingCode, second.pairingCode)
    assert.isAbove(first.expiresIn, 890)
    const device = await Device.findByOrFail('serialNumber', 'AGENT-0002')

    const wrongCode = first.pairingCode === '000000' ? '000001' : '000000'
    const refused = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ device: String(device.id), code: wrongCode })
      .redirects(0)
    refused.assertStatus(302)
    const errors = refused.flashMessages().inputErrorsBag as Record<string, string[]>
    assert.match(errors.code[0], /No waiting pairing request/)
    const malformed = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ code: '12ab' })
    malformed.assertStatus(422)
    await device.refresh()
    assert.equal(device.status, 'pending')
    assert.isFalse(device.hasCredential)
    assert.include(await pair(genuine), { state: 'waiting' })

    // The form shows the refused code's error on this device's form only.
    const other = await DeviceFactory.merge({ serialNumber: 'AGENT-0003' }).create()
    await pair(terminal('AGENT-0003', other.name))
    const page = await client
      .get('/admin/devices')
      .loginAs(operator)
      .withFlashMessages({
        device: String(device.id),
        code: wrongCode,
        inputErrorsBag: { code: ['No waiting pairing request of this device shows code 000000.'] },
      })
    const html = page.text()
    assert.equal(html.split('data-test="pairing-form"').length - 1, 2)
    assert.equal(html.split('data-test="error-code"').length - 1, 1)
    const ownForm = html.slice(html.indexOf(`id="pairing-code-${device.id}"`))
    assert.match(ownForm, new RegExp(`^id="pairing-code-${device.id}"[^>]*value="${wrongCode}"`))
    assert.isBelow(ownForm.indexOf('data-test="error-code"'), ownForm.indexOf('</form>'))

    const approved = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ device: String(device.id), code: first.pairingCode })
      .redirects(0)
    approved.assertFlashMessage(
      'success',
      `${device.name} is paired: the terminal receives its credential with its next call. 1 other request was refused.`
    )

    const late = await pair(impostor)
    assert.include(late, { code: 0, state: 'refused' })
    assert.notProperty(late, 'credential')
    const delivered = await pair(genuine)
    assert.include(delivered, { code: 0, state: 'approved' })
    assert.match(delivered.credential, /^fa1_/)
    const again = await pair(genuine)
    assert.include(again, { state: 'delivered' })
    assert.notProperty(again, 'credential')
    await assert.rejects(
      () =>
        pairDevice({
          serverUrl,
          deviceName: genuine.deviceName,
          serial: genuine.sn,
          pairingKey: impostor.pairingKey,
          pollMs: 20,
        }),
      /refused/
    )
  })

  test('a request expires unapproved, and its code then approves nothing', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const request = terminal('AGENT-0004')
    const body = await pair(request)
    const device = await Device.findByOrFail('serialNumber', 'AGENT-0004')
    await db
      .from('device_pairings')
      .where('device_id', device.id)
      .update({ created_at: toSqlDateTime(DateTime.now().minus({ minutes: 16 })) })

    const expired = await pair(request)
    assert.include(expired, { code: 0, state: 'expired', pairingCode: body.pairingCode })
    const error = await pairDevice({
      serverUrl,
      deviceName: request.deviceName,
      serial: request.sn,
      pairingKey: request.pairingKey,
      pollMs: 20,
    }).catch((failure: unknown) => failure)
    assert.instanceOf(error, PairingError)
    assert.equal((error as PairingError).reason, 'expired')

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('No pairing request waits for this device.')
    const response = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ code: body.pairingCode })
    response.assertStatus(422)
    await device.refresh()
    assert.equal(device.status, 'pending')
  })

  test('requests are limited per serial number, per address and by the cap on pending devices', async ({
    assert,
  }) => {
    terminalConfig.agent.pairingsPerDevice = 3
    const keys = Array.from({ length: 3 }, () => terminal('AGENT-0005', 'Busy agent'))
    for (const request of keys) assert.include(await pair(request), { code: 0 })
    const fourth = await pairCall(terminal('AGENT-0005', 'Busy agent'))
    assert.equal(fourth.status, 429)
    assert.include(fourth.body, { flag: 'pair', code: 8 })
    assert.match(fourth.body.message, /3 pairing requests already wait for this serial number/)
    assert.isAbove(Number(fourth.retryAfter), 800)
    assert.include(await pair(keys[0]), { code: 0, state: 'waiting' }, 'polls go on')

    await resetTerminalState()
    terminalConfig.auth.refusedPerAddressPerMinute = 2
    const serials = ['AGENT-0006', 'AGENT-0007', 'AGENT-0008']
    const answers = []
    for (const serial of serials) answers.push(await pair(terminal(serial)))
    assert.deepEqual(
      answers.map((answer) => answer.code),
      [0, 0, 8]
    )
    assert.isNull(await Device.findBy('serialNumber', 'AGENT-0008'), 'nothing registered')

    await resetTerminalState()
    terminalConfig.auth.refusedPerAddressPerMinute = auth.refusedPerAddressPerMinute
    const [row] = await db.from('devices').where('status', 'pending').count('* as total')
    terminalConfig.auth.pendingTotal = Number(row.total)
    const full = await pair(terminal('AGENT-0009'))
    assert.include(full, { code: 5 })
    assert.match(full.message, /as many devices waiting for approval as it allows/)
    assert.isNull(await Device.findBy('serialNumber', 'AGENT-0009'))
  })

  test('blocked, legacy and mismatched devices and malformed fields are refused with their codes', async ({
    assert,
  }) => {
    const blocked = await DeviceFactory.apply('blocked').create()
    const legacy = await DeviceFactory.apply('approved').apply('legacy').create()
    const known = await DeviceFactory.create()
    const blockedAnswer = await pair(terminal(blocked.serialNumber, blocked.name))
    assert.include(blockedAnswer, { code: 9001 })
    assert.match(blockedAnswer.message, /is blocked/)
    const legacyAnswer = await pair(terminal(legacy.serialNumber, legacy.name))
    assert.include(legacyAnswer, { code: 5 })
    assert.match(legacyAnswer.message, /legacy mode/)
    assert.include(await pair(terminal(known.serialNumber, 'Another name')), { code: 9004 })

    const shortKey = await pair({ deviceName: 'X', sn: 'AGENT-0010', pairingKey: 'short' })
    assert.include(shortKey, { code: 2 })
    assert.match(shortKey.message, /pairingKey must be 32 to 128 letters/)
    const missing = await pair({ deviceName: 'X', sn: 'AGENT-0010' })
    assert.include(missing, {
      code: 9005,
      message: 'Incomplete parameters: missing pairingKey',
    })

    const reused = terminal('AGENT-0011')
    await pair(reused)
    const elsewhere = await pair({ ...reused, sn: 'AGENT-0012', deviceName: 'Agent AGENT-0012' })
    assert.include(elsewhere, { code: 2 })
    assert.match(elsewhere.message, /sent for another device/)
    assert.lengthOf(await db.from('device_pairings'), 1)
  })

  test('node ace device:approve --pairing-code pairs the request showing the code', async ({
    assert,
  }) => {
    const request = terminal('AGENT-0013', 'Gate agent')
    const body = await pair(request)
    const ace = await aceKernel()

    const wrong = await ace.exec('device:approve', [
      'AGENT-0013',
      `--pairing-code=${body.pairingCode === '111111' ? '222222' : '111111'}`,
    ])
    wrong.assertFailed()
    wrong.assertLogMatches(
      /No pairing request of Gate agent \(AGENT-0013\) waiting shows code/,
      'stderr'
    )

    const command = await ace.exec('device:approve', [
      'AGENT-0013',
      `--pairing-code=${body.pairingCode}`,
    ])
    command.assertSucceeded()
    command.assertLogMatches(/Gate agent \(AGENT-0013\) is approved and paired/)
    const answer = await pair(request)
    const credential = answer.credential as string
    assert.match(credential, /^fa1_/)
    assert.notInclude(JSON.stringify(ace.ui.logger.getLogs()), credential, 'never printed')
    ace.ui.logger.flushLogs()
  })
})
