import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import sharp from 'sharp'
import { AgentOutbox, type AgentDecision } from '#terminal-client/agent_outbox'
import { migrate, sqliteNow, startServer } from '../../../bench/support/bench_server.js'

/**
 * The agent's store-and-forward against real server processes over real
 * HTTP: the server stopped, SIGKILLed mid-send and unable to write, and
 * the agent itself SIGKILLed with a backlog. The server's own database is
 * read directly to count what it recorded.
 */
const tag = `outbox_${process.pid}`
const dbFile = `${tag}.sqlite3`
const storage = `tmp/${tag}-storage`
const agentDir = app.makePath('tmp', `${tag}-agent`)
const port = String(Number(process.env.PORT ?? 3333) + 81)
const origin = `http://127.0.0.1:${port}`
const device = { deviceName: 'Outbox gate', serialNumber: 'OUTBOX-0001', secret: '' }
const serverEnv = {
  DB_CONNECTION: 'sqlite',
  DB_FILE: dbFile,
  STORAGE_DIR: storage,
  DEVICE_RATE_PER_DEVICE: '100000000',
  DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
}
let server: ChildProcess | null = null
let snapshot: Buffer

/**
 * Registers the device as pending and approves it with `node ace
 * device:approve`, returning the credential it prints. The command is
 * stopped once it printed it: the approval is committed by then, and in
 * the test environment the command's Redis connections keep it running.
 */
async function approveSigned() {
  const sqlite = new DatabaseSync(app.makePath('tmp', dbFile))
  const now = sqliteNow()
  sqlite
    .prepare(
      `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
         last_seen_address, config, created_at, updated_at)
       values (?, ?, 'pending', 'online', 'face', 0, '127.0.0.1', '{}', ?, ?)`
    )
    .run(device.deviceName, device.serialNumber, now, now)
  sqlite.close()
  const command = spawn(process.execPath, ['ace', 'device:approve', device.serialNumber], {
    env: { ...process.env, DB_FILE: dbFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => command.once('exit', resolve))
  let printed = ''
  command.stdout!.on('data', (chunk) => (printed += chunk))
  try {
    await until(() => /^fa1_\S+$/m.test(printed) || command.exitCode !== null)
  } finally {
    if (command.exitCode === null) command.kill('SIGKILL')
    await exited
  }
  const secret = /^(fa1_\S+)$/m.exec(printed)?.[1]
  if (!secret) throw new Error(`device:approve printed no credential:\n${printed}`)
  return secret
}

async function serverUp() {
  if (!server || server.exitCode !== null || server.signalCode !== null) {
    server = await startServer({ port, dbFile, env: serverEnv })
  }
}

async function serverKilled() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return
  const exited = new Promise((resolve) => server!.once('exit', resolve))
  server.kill('SIGKILL')
  await exited
}

/** The events the server recorded whose terminal id starts with `prefix`, in the order recorded. */
function serverEvents(prefix: string) {
  const db = new DatabaseSync(app.makePath('tmp', dbFile), { readOnly: true })
  try {
    return db
      .prepare(
        `select id, terminal_event_id as eventId, snapshot_path as snapshotPath, occurred_at as at
         from access_events where terminal_event_id like ? order by id`
      )
      .all(`${prefix}%`) as { id: number; eventId: string; snapshotPath: string | null }[]
  } finally {
    db.close()
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function outboxAt(
  name: string,
  options: Partial<ConstructorParameters<typeof AgentOutbox>[0]> = {}
) {
  return new AgentOutbox({
    databasePath: `${agentDir}/${name}.sqlite3`,
    serverUrl: origin,
    device,
    baseBackoffMs: 100,
    maxBackoffMs: 2_000,
    ...options,
  })
}

function decision(
  prefix: string,
  index: number,
  extra: Partial<AgentDecision> = {}
): AgentDecision {
  return {
    id: `${prefix}-${String(index).padStart(5, '0')}`,
    decision: index % 3 === 0 ? 'denied' : 'granted',
    reason: index % 3 === 0 ? 'unknown face' : 'recognised',
    name: index % 3 === 0 ? null : `Person ${index}`,
    score: 0.8,
    method: 'face',
    snapshot,
    ...extra,
  }
}

function ids(prefix: string, count: number) {
  return Array.from({ length: count }, (_, index) => decision(prefix, index).id!)
}

test.group('Terminal agent: store-and-forward of decisions', (group) => {
  group.setup(async () => {
    snapshot = await sharp(app.makePath('tests/fixtures/faces/kit_harington.jpg'))
      .resize(96, 96)
      .jpeg({ quality: 70 })
      .toBuffer()
    // The commands run on the server's database, without a queue worker keeping them alive.
    const previous = {
      DB_CONNECTION: process.env.DB_CONNECTION,
      QUEUE_WORKER: process.env.QUEUE_WORKER,
    }
    process.env.DB_CONNECTION = 'sqlite'
    process.env.QUEUE_WORKER = 'false'
    try {
      migrate(dbFile)
      device.secret = await approveSigned()
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
    return async () => {
      await serverKilled()
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(app.makePath('tmp', `${dbFile}${suffix}`), { force: true })
      }
      await rm(app.makePath(storage), { recursive: true, force: true })
      await rm(agentDir, { recursive: true, force: true })
    }
  })

  test('a backlog recorded while the server is down arrives in order, once, with its snapshots', async ({
    assert,
    cleanup,
  }) => {
    await serverKilled()
    const outbox = outboxAt('backlog')
    cleanup(() => outbox.close())
    outbox.start()
    for (let index = 0; index < 30; index++) await outbox.record(decision('down', index))

    const databaseMode = statSync(`${agentDir}/backlog.sqlite3`).mode & 0o777
    assert.equal(databaseMode, 0o600, 'the agent database is readable by its owner only')
    await until(() => outbox.health().lastError !== null)
    const waiting = outbox.health()
    assert.equal(waiting.backlog, 30)
    assert.isAtLeast(waiting.oldestUnsentAgeMs!, 0)
    assert.match(waiting.lastError!, /network/)
    assert.lengthOf(serverEvents('down-'), 0)

    await serverUp()
    await outbox.drained(180_000)
    const events = serverEvents('down-')
    assert.deepEqual(
      events.map((event) => event.eventId),
      ids('down', 30),
      'every decision once, in the order made'
    )
    for (const event of events) {
      assert.isNotNull(event.snapshotPath)
      assert.isTrue(existsSync(app.makePath(event.snapshotPath!)), 'the snapshot is stored')
    }
    const health = outbox.health()
    assert.equal(health.backlog, 0)
    assert.isNull(health.oldestUnsentAgeMs)
    assert.isNotNull(health.lastSentAt)
  }).timeout(300_000)

  test('the server SIGKILLed while reports are sent, then started again: every decision exactly once', async ({
    assert,
    cleanup,
  }) => {
    await serverUp()
    const outbox = outboxAt('cut')
    cleanup(() => outbox.close())
    for (let index = 0; index < 150; index++) await outbox.record(decision('cut', index))
    outbox.start()
    await until(() => serverEvents('cut-').length >= 20)
    await serverKilled()
    const sentBeforeCut = 150 - outbox.health().backlog
    assert.isBelow(sentBeforeCut, 150, 'the cut came while reports were still being sent')

    await serverUp()
    await outbox.drained(300_000)
    assert.deepEqual(
      serverEvents('cut-').map((event) => event.eventId),
      ids('cut', 150)
    )
  }).timeout(420_000)

  test('the agent SIGKILLed mid-drain and started again loses nothing and sends nothing twice', async ({
    assert,
  }) => {
    await serverUp()
    const snapshotFile = `${agentDir}/kill-snapshot.jpg`
    await writeFile(snapshotFile, snapshot)
    const agent = (record: number) => {
      const child = spawn(
        process.execPath,
        [
          '--import=@poppinss/ts-exec',
          'tests/helpers/outbox_agent.ts',
          `--db=${agentDir}/kill.sqlite3`,
          `--server=${origin}`,
          `--name=${device.deviceName}`,
          `--serial=${device.serialNumber}`,
          `--secret=${device.secret}`,
          `--snapshot=${snapshotFile}`,
          `--record=${record}`,
        ],
        { cwd: app.makePath(), stdio: ['ignore', 'pipe', 'inherit'] }
      )
      let output = ''
      child.stdout!.on('data', (chunk) => (output += chunk))
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      return { child, exited, output: () => output }
    }

    const first = agent(200)
    await until(() => first.output().includes('recorded') || first.child.exitCode !== null)
    assert.include(first.output(), 'recorded')
    await until(() => serverEvents('kill-').length >= 30 || first.child.exitCode !== null)
    first.child.kill('SIGKILL')
    await first.exited
    assert.isBelow(serverEvents('kill-').length, 200, 'the agent was killed with a backlog')

    const second = agent(0)
    assert.equal(await second.exited, 0)
    assert.include(second.output(), 'drained')
    assert.deepEqual(
      serverEvents('kill-').map((event) => event.eventId),
      ids('kill', 200)
    )
    const local = new DatabaseSync(`${agentDir}/kill.sqlite3`, { readOnly: true })
    const states = local.prepare(`select state, count(*) as n from decisions group by state`).all()
    local.close()
    assert.deepEqual(states, [{ state: 'sent', n: 200 }])
  }).timeout(420_000)

  test('9007 with Retry-After is waited out, and a report refused for good does not block the rest', async ({
    assert,
    cleanup,
  }) => {
    await serverUp()
    const outbox = outboxAt('busy', { maxBackoffMs: 30_000 })
    cleanup(() => outbox.close())
    // Another writer holds the server database's write lock: reports are answered 9007/503.
    const other = new DatabaseSync(app.makePath('tmp', dbFile))
    cleanup(() => {
      if (other.isOpen) {
        if (other.isTransaction) other.exec('ROLLBACK')
        other.close()
      }
    })
    other.exec('BEGIN IMMEDIATE')
    await outbox.record(decision('busy', 0))
    // A clock an hour ahead: the server refuses that report (code 2) however often it is sent.
    await outbox.record(decision('busy', 1, { at: new Date(Date.now() + 3600_000) }))
    await outbox.record(decision('busy', 2))
    outbox.start()
    await until(() => outbox.health().nextAttemptAt !== null, 180_000)
    const waiting = outbox.health()
    assert.match(waiting.lastError!, /9007/)
    assert.isAtLeast(
      waiting.nextAttemptAt!.getTime() - waiting.lastErrorAt!.getTime(),
      4_900,
      "the server's Retry-After (5 s) is honoured over the shorter back-off"
    )
    assert.equal(waiting.backlog, 3)
    other.exec('ROLLBACK')
    other.close()

    await outbox.drained(180_000)
    assert.deepEqual(
      serverEvents('busy-').map((event) => event.eventId),
      ['busy-00000', 'busy-00002']
    )
    const health = outbox.health()
    assert.equal(health.refused, 1)
    const refused = outbox.db
      .prepare(`select id, state, last_error as reason from decisions where state = 'failed'`)
      .all() as { id: string; reason: string }[]
    assert.equal(refused[0].id, 'busy-00001')
    assert.match(refused[0].reason, /answered 2: .*ahead of the server's clock/)
  }).timeout(300_000)

  test('the disk budget sheds the oldest snapshots, sent ones first, and keeps every event', async ({
    assert,
    cleanup,
  }) => {
    await serverUp()
    const budget = snapshot.byteLength * 4
    const sending = outboxAt('budget', { snapshotBudgetBytes: budget })
    sending.start()
    for (let index = 0; index < 3; index++) await sending.record(decision('budget', index))
    await sending.drained(120_000)
    await sending.close()

    // The same store while the server is unreachable: five more decisions, over the budget.
    const offline = outboxAt('budget', {
      snapshotBudgetBytes: budget,
      serverUrl: 'http://127.0.0.1:9',
    })
    for (let index = 3; index < 8; index++) await offline.record(decision('budget', index))
    const kept = offline.db
      .prepare(
        `select id, state, snapshot_file as file, snapshot_shed as shed from decisions order by seq`
      )
      .all() as { id: string; state: string; file: string | null; shed: number }[]
    assert.deepEqual(
      kept.map((row) => [row.id.slice(-1), row.state, row.shed]),
      [
        ['0', 'sent', 1],
        ['1', 'sent', 1],
        ['2', 'sent', 1],
        ['3', 'pending', 1],
        ['4', 'pending', 0],
        ['5', 'pending', 0],
        ['6', 'pending', 0],
        ['7', 'pending', 0],
      ],
      'the sent snapshots went first, then the oldest unsent one'
    )
    const files = await readdir(offline.snapshotDir)
    assert.sameMembers(
      files,
      kept.filter((row) => row.file).map((row) => row.file!)
    )
    const health = offline.health()
    assert.equal(health.shedSnapshots, 4)
    assert.equal(health.snapshotBytes, budget)
    assert.equal(health.backlog, 5)
    await offline.close()

    const reconnected = outboxAt('budget', { snapshotBudgetBytes: budget })
    cleanup(() => reconnected.close())
    reconnected.start()
    await reconnected.drained(120_000)
    const events = serverEvents('budget-')
    assert.deepEqual(
      events.map((event) => event.eventId),
      ids('budget', 8)
    )
    assert.isNull(events[3].snapshotPath, 'the shed unsent event arrives without its snapshot')
    assert.isTrue(events.slice(4).every((event) => event.snapshotPath !== null))

    assert.equal(await reconnected.prune(Date.now() + 31 * 24 * 3600_000), 4)
    assert.equal(
      (reconnected.db.prepare(`select count(*) as n from decisions`).get() as { n: number }).n,
      0,
      'sent reports past the retention are pruned'
    )
    assert.deepEqual(await readdir(reconnected.snapshotDir), [])
  }).timeout(300_000)

  test('two thousand decisions drain without loss, in order', async ({ assert, cleanup }) => {
    await serverUp()
    const outbox = outboxAt('many')
    cleanup(() => outbox.close())
    const started = performance.now()
    for (let index = 0; index < 2_000; index++) await outbox.record(decision('many', index))
    const recordMs = performance.now() - started
    outbox.start()
    await outbox.drained(900_000)
    const drainMs = performance.now() - started - recordMs
    console.log(
      `outbox: 2000 decisions recorded in ${Math.round(recordMs)} ms, drained in ${Math.round(drainMs)} ms`
    )
    assert.deepEqual(
      serverEvents('many-').map((event) => event.eventId),
      ids('many', 2_000)
    )
    assert.equal(outbox.health().refused, 0)
    assert.equal(outbox.health().backlog, 0)
  }).timeout(1_200_000)
})
