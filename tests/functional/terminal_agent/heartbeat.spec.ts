import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { DeviceHeartbeats } from '#services/device_heartbeats'
import { deviceSyncNotices } from '#services/device_sync_notices'
import { toSqlDateTime } from '#services/sql_time'
import type { AgentCommand, AgentHeartbeat } from '#terminal-client/agent_contracts'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import { HeartbeatClient } from '#terminal-client/heartbeat_client'
import { credentialOf, resetTerminalState, serverUrl } from '#tests/helpers/terminal'
import { getDbsSince, syncEvents, terminalCall } from '#tests/helpers/sync_terminals'

function heartbeatState(changes: Partial<AgentHeartbeat> = {}): AgentHeartbeat {
  return {
    mode: 'online',
    backlog: 0,
    oldestUnsentAgeMs: null,
    revision: 0,
    camera: { state: 'ok' },
    gate: { state: 'ok' },
    reader: { state: 'absent' },
    light: { state: 'ok' },
    commandsDone: [],
    version: '0.1.0',
    ...changes,
  }
}

/** A page's HTML with every run of white space as one space, for matching attributes. */
function flat(html: string) {
  return html.replace(/\s+/g, ' ')
}

/** A signed heartbeat with the state as a JSON object (or whatever `state` is). */
function beat(device: Device, state: unknown) {
  return terminalCall(device, 'heartbeat', {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    state: state as string,
  })
}

function apiOf(device: Device) {
  const { secret } = credentialOf(device)
  return new FacesApiClient(serverUrl, {
    deviceName: device.name,
    serialNumber: device.serialNumber,
    secret,
  })
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

test.group('Terminal agent: heartbeat and commands', (group) => {
  const agent = {
    ...terminalConfig.agent,
    commandTtlSeconds: { ...terminalConfig.agent.commandTtlSeconds },
  }
  const sync = { ...terminalConfig.sync }
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => async () => {
    Object.assign(terminalConfig.agent, agent)
    Object.assign(terminalConfig.sync, sync)
    await new DeviceHeartbeats().flush().catch(() => {})
  })

  test('the latest heartbeat is kept and shown on the device page and the Devices list', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby agent' }).create()
    const quiet = await DeviceFactory.apply('approved').create()

    const first = await beat(device, heartbeatState({ revision: 3 }))
    assert.include(first.body, { flag: 'heartbeat', code: 0, message: 'recorded' })
    assert.deepEqual(first.body.commands, [])
    assert.closeTo(first.body.serverTime, Date.now() / 1000, 5)

    // The agent's own client, sending the state as JSON text.
    const heartbeats = new HeartbeatClient({
      api: apiOf(device),
      deviceName: device.name,
      serialNumber: device.serialNumber,
      state: () =>
        heartbeatState({
          mode: 'offline',
          backlog: 42,
          oldestUnsentAgeMs: 20 * 60_000,
          shedSnapshots: 3,
          revision: 7,
          gate: { state: 'fault', detail: 'no answer on /dev/ttyUSB0' },
        }),
      onCommands: () => {},
    })
    assert.isTrue(await heartbeats.beat())

    const edit = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    edit.assertStatus(200)
    const html = flat(edit.text())
    assert.include(html, 'data-test="agent-mode" data-mode="offline"')
    assert.include(html, 'data-backlog="42" data-flagged="yes"')
    assert.include(html, 'Unsent for over 15 minutes')
    assert.include(html, 'data-part="gate" data-state="fault" title="no answer on /dev/ttyUSB0"')
    assert.include(html, 'data-part="reader" data-state="absent"')
    assert.include(html, 'r7')
    assert.include(html, '3 snapshots deleted, oldest first (their events kept)')

    const list = await client.get('/admin/devices').loginAs(operator)
    const row = flat(list.text()).split(`data-serial="${device.serialNumber}"`)[1].split('</tr>')[0]
    assert.include(row, 'data-mode="offline"')
    assert.include(row, 'data-test="agent-backlog" data-flagged="yes"')
    assert.include(row, 'data-test="agent-fault" data-part="gate"')
    const quietRow = flat(list.text())
      .split(`data-serial="${quiet.serialNumber}"`)[1]
      .split('</tr>')[0]
    assert.notInclude(quietRow, 'data-mode=')

    // Written to the database, it survives Redis forgetting it.
    const store = new DeviceHeartbeats()
    assert.deepEqual(await store.flush(), { devices: 1 })
    const [stored] = await db.from('device_heartbeats').where('device_id', device.id)
    assert.include(JSON.parse(stored.state), { mode: 'offline', backlog: 42, revision: 7 })
    await resetTerminalState()
    const kept = await store.of([device.id, quiet.id])
    assert.equal(kept.get(device.id)?.state.backlog, 42)
    assert.isTrue(kept.get(device.id)?.backlogFlagged)
    assert.isFalse(kept.has(quiet.id))

    const auditorPage = await client
      .get(`/admin/devices/${device.id}`)
      .loginAs(await UserFactory.apply('auditor').create())
    assert.include(flat(auditorPage.text()), 'data-test="agent-mode" data-mode="offline"')
    assert.notInclude(auditorPage.text(), 'data-test="agent-commands"')
  })

  test('a malformed heartbeat is refused with code 2 naming the field, and stores nothing', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const cases: [unknown, RegExp][] = [
      [heartbeatState({ backlog: -1 }), /state\.backlog: /],
      [{ ...heartbeatState(), mode: 'asleep' }, /state\.mode: /],
      [{ ...heartbeatState(), camera: { state: 'broken' } }, /state\.camera\.state: /],
      [{ ...heartbeatState(), commandsDone: ['x'] }, /state\.commandsDone\.0: /],
      [{ ...heartbeatState(), version: undefined }, /state\.version: /],
      ['{not json', /state must be a JSON object/],
      ['[1, 2]', /state must be a JSON object/],
    ]
    for (const [state, message] of cases) {
      const answer = await beat(device, typeof state === 'string' ? state : JSON.stringify(state))
      assert.include(answer.body, { flag: 'heartbeat', code: 2 }, JSON.stringify(state))
      assert.match(answer.body.message, message)
    }
    const missing = await terminalCall(device, 'heartbeat', {
      deviceName: device.name,
      deviceSN: device.serialNumber,
    })
    assert.include(missing.body, { code: 9005, message: 'Incomplete parameters: missing state' })
    const stored = await new DeviceHeartbeats().of([device.id])
    assert.isFalse(stored.has(device.id))
  })

  test('an unsigned heartbeat is refused with 9001', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const response = await fetch(`${serverUrl}/faces/api/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        state: heartbeatState(),
      }),
    })
    const answer = (await response.json()) as { flag: string; code: number }
    assert.include(answer, { flag: 'heartbeat', code: 9001 })
    const stored = await new DeviceHeartbeats().of([device.id])
    assert.isFalse(stored.has(device.id))
  })

  test('a queued command answers the waiting syncEvents call at once and stops once reported done', async ({
    client,
    assert,
  }) => {
    terminalConfig.sync.waitSeconds = 60
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const fetched = await getDbsSince(device)
    const revision = fetched.body.revision as number

    const before = deviceSyncNotices.waiting
    const waiting = syncEvents(device, revision)
    await until(() => deviceSyncNotices.waiting > before, 'the terminal waits')
    const started = Date.now()
    const queued = await client
      .post(`/admin/devices/${device.id}/commands`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ type: 'open_door' })
      .redirects(0)
    queued.assertStatus(302)
    const answer = await waiting
    console.log(`  queued command to waiting terminal: ${Date.now() - started} ms`)
    assert.include(answer.body, { code: 0, changed: false, message: 'commands to carry out' })
    assert.lengthOf(answer.body.commands, 1)
    const [command] = answer.body.commands as AgentCommand[]
    assert.equal(command.type, 'open_door')
    // Well below the 60 s wait: the announcement, not the timeout, ended the call.
    assert.isBelow(Date.now() - started, 20_000)

    // Sent again until reported done, then never again.
    const heartbeat = await beat(device, heartbeatState({ revision }))
    assert.deepEqual(
      (heartbeat.body.commands as AgentCommand[]).map((one) => one.id),
      [command.id]
    )
    const done = await beat(device, heartbeatState({ revision, commandsDone: [command.id] }))
    assert.deepEqual(done.body.commands, [])
    terminalConfig.sync.waitSeconds = 1
    const idle = await syncEvents(device, revision)
    assert.include(idle.body, { code: 0, changed: false, message: 'no change' })
    assert.deepEqual(idle.body.commands, [])

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    assert.include(
      flat(page.text()),
      'data-test="command-row" data-type="open_door" data-status="done"'
    )
    const entry = await AuditLog.findByOrFail('action', 'device.command.open_door')
    assert.equal(entry.userId, operator.id)
  })

  test('only those who may act on devices queue commands; a restart is confirmed first', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const pending = await DeviceFactory.create()
    const auditor = await UserFactory.apply('auditor').create()
    const admin = await UserFactory.apply('admin').create()

    for (const type of ['open_door', 'sync_now', 'restart']) {
      const refused = await client
        .post(`/admin/devices/${device.id}/commands`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ type })
        .redirects(0)
      refused.assertStatus(403)
    }
    const confirm = await client
      .get(`/admin/devices/${device.id}/commands/restart`)
      .loginAs(auditor)
    confirm.assertStatus(403)
    assert.lengthOf(await db.from('device_commands'), 0)

    const page = await client.get(`/admin/devices/${device.id}/commands/restart`).loginAs(admin)
    page.assertStatus(200)
    page.assertTextIncludes('data-test="restart-agent"')
    const restart = await client
      .post(`/admin/devices/${device.id}/commands`)
      .loginAs(admin)
      .withCsrfToken()
      .form({ type: 'restart' })
      .redirects(0)
    restart.assertStatus(302)
    const bogus = await client
      .post(`/admin/devices/${device.id}/commands`)
      .loginAs(admin)
      .withCsrfToken()
      .accept('json')
      .form({ type: 'self_destruct' })
    bogus.assertStatus(422)
    const notApproved = await client
      .post(`/admin/devices/${pending.id}/commands`)
      .loginAs(admin)
      .withCsrfToken()
      .form({ type: 'sync_now' })
      .redirects(0)
    notApproved.assertFlashMessage(
      'error',
      `${pending.name} is not approved: it cannot receive commands.`
    )
    const queued = await db.from('device_commands').select('device_id', 'type', 'issued_by')
    assert.deepEqual(queued, [{ device_id: device.id, type: 'restart', issued_by: admin.id }])
  })

  test('a command too old to carry out is not sent and shows as expired', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    for (const type of ['open_door', 'sync_now']) {
      await client
        .post(`/admin/devices/${device.id}/commands`)
        .loginAs(operator)
        .withCsrfToken()
        .form({ type })
    }
    // Two minutes later: the door command (one minute) expired, the sync (ten) did not.
    await db
      .from('device_commands')
      .update({ issued_at: toSqlDateTime(DateTime.now().minus({ minutes: 2 })) })
    const answer = await beat(device, heartbeatState())
    assert.deepEqual(
      (answer.body.commands as AgentCommand[]).map((command) => command.type),
      ['sync_now']
    )
    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    assert.include(flat(page.text()), 'data-type="open_door" data-status="expired"')
    assert.include(flat(page.text()), 'data-type="sync_now" data-status="delivered"')
  })

  test('the heartbeat client runs each command once, reports it done and never throws', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const received: AgentCommand[] = []
    const heartbeats = new HeartbeatClient({
      api: apiOf(device),
      deviceName: device.name,
      serialNumber: device.serialNumber,
      state: () => heartbeatState(),
      onCommands: (commands) => {
        received.push(...commands)
        for (const command of commands) heartbeats.done(command.id)
      },
      intervalMs: 50,
    })
    await db.table('device_commands').insert({
      device_id: device.id,
      type: 'sync_now',
      issued_at: toSqlDateTime(),
    })
    heartbeats.start()
    await until(async () => {
      const [row] = await db.from('device_commands').whereNotNull('done_at')
      return row
    }, 'the command was reported done')
    await heartbeats.receive([{ id: received[0].id, type: 'sync_now', issuedAt: '' }])
    await heartbeats.stop()
    assert.lengthOf(received, 1)
    assert.equal(received[0].type, 'sync_now')

    // A server that does not answer: failures are counted and reported, nothing thrown.
    const errors: unknown[] = []
    const unreachable = new HeartbeatClient({
      api: new FacesApiClient('http://127.0.0.1:9', {
        deviceName: device.name,
        serialNumber: device.serialNumber,
        secret: credentialOf(device).secret,
      }),
      deviceName: device.name,
      serialNumber: device.serialNumber,
      state: () => heartbeatState(),
      onCommands: () => {},
      intervalMs: 20,
      onError: (error) => errors.push(error),
    })
    unreachable.start()
    await until(() => unreachable.health().failures >= 3, 'three failed heartbeats')
    await unreachable.stop()
    assert.isAtLeast(errors.length, 3)
    assert.isNull(unreachable.health().lastSuccessAt)
    assert.isFalse(await unreachable.beat())
  })
})
