import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { DatabaseSync } from 'node:sqlite'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import Device from '#models/device'
import type Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceCredentials } from '#services/device_credentials'
import { openAgentDatabase, writeSetting } from '#terminal-client/agent_store'
import { ModbusPeer } from '#tests/helpers/modbus_peer'
import { TcpProxy } from '#tests/helpers/tcp_proxy'
import {
  credentialOf,
  enrolPhotoOf,
  grant,
  resetTerminalState,
  serverUrl,
} from '#tests/helpers/terminal'
import { passagesClip } from '#tests/helpers/video_clips'

const fixture = (name: string) => app.makePath('tests/fixtures/pairs', name)
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(100)
  }
}

/** The processes of a process group still running (zombies waiting for their reaper are not). */
async function groupMembers(groupId: number) {
  const members: string[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null)
    if (!stat) continue
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const closing = stat.lastIndexOf(')')
    const [state, , pgrp] = stat.slice(closing + 2).split(' ')
    if (Number(pgrp) === groupId && state !== 'Z') {
      members.push(stat.slice(stat.indexOf('(') + 1, closing))
    }
  }
  return members
}

/**
 * `node ace terminal:run` in a process group of its own, as systemd runs
 * it in a control group: the agent with its ffmpeg and engine are
 * signalled together, and the test can see that none of them is left.
 */
class AgentProcess {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  output = ''

  constructor(configFile: string) {
    this.child = spawn(process.execPath, ['ace', 'terminal:run', '--config', configFile], {
      cwd: app.makePath(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    })
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.on('data', (chunk) => (this.output += chunk))
    }
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal }))
    )
  }

  get groupId() {
    return this.child.pid!
  }

  /** Signals the whole group (the agent, its ffmpeg and its engine). */
  signal(signal: NodeJS.Signals) {
    try {
      process.kill(-this.groupId, signal)
    } catch {
      // The group is gone already.
    }
  }

  /** Waits until none of the group's processes runs, and says which still did if some do. */
  async gone(timeoutMs = 20_000) {
    try {
      await until(
        async () => {
          const members = await groupMembers(this.groupId)
          return members.length === 0
        },
        'the group ends',
        timeoutMs
      )
    } catch {
      const members = await groupMembers(this.groupId)
      throw new Error(`still running: ${members.join(', ')}`)
    }
  }
}

type StoredDecision = {
  id: string
  decision: string
  reason: string
  username: string | null
  state: string
  server_event_id: number | null
}

/**
 * The terminal agent as it runs at a door: `node ace terminal:run` in a
 * process of its own against the suite's server, through a TCP proxy that
 * can cut the network, with a pymodbus relay on a socat pty as its gate and
 * its camera a FIFO that the test fills with a video of people passing
 * when it wants them to pass.
 */
test.group('Terminal agent: the process', (group) => {
  let peer: ModbusPeer
  let folder: string
  let proxy: TcpProxy
  let agents: AgentProcess[]
  let fed: { fifo: string; done: Promise<unknown> }[]

  group.each.timeout(150_000)
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    peer = await ModbusPeer.rtu()
    folder = await mkdtemp(join(tmpdir(), 'agent-process-'))
    const url = new URL(serverUrl)
    proxy = await new TcpProxy({ host: url.hostname, port: Number(url.port) }).start()
    agents = []
    fed = []
    return async () => {
      for (const agent of agents) agent.signal('SIGKILL')
      for (const agent of agents) {
        await agent.exited
        await agent.gone()
      }
      // A feed still waiting for its reader is let go.
      for (const { fifo } of fed)
        closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK))
      await Promise.all(fed.map(({ done }) => done))
      await proxy.stop()
      await peer.stop()
      await rm(folder, { recursive: true, force: true })
    }
  })

  const dataDir = () => join(folder, 'data')
  const databasePath = () => join(dataDir(), 'agent.sqlite3')

  function start(configFile: string) {
    const agent = new AgentProcess(configFile)
    agents.push(agent)
    return agent
  }

  /** Writes the agent's configuration (and its plugins file) as an installer would. */
  async function configure(fields: Record<string, unknown>) {
    await writeFile(
      join(folder, 'plugins.json'),
      JSON.stringify([
        { id: 'engine', plugin: 'face-engine', config: { poolSize: 1 } },
        {
          id: 'gate',
          plugin: 'modbus-gate',
          config: { bus: peer.bus, unitId: 1, timeoutMs: 1000, open: { coil: 0 } },
        },
      ])
    )
    const configFile = join(folder, 'terminal.json')
    await writeFile(
      configFile,
      JSON.stringify({
        serverUrl: proxy.url,
        dataDir: 'data',
        mode: 'auto',
        pluginsFile: 'plugins.json',
        door: { gate: 'gate', openMs: 800 },
        liveness: 'none',
        kiosk: { port: 0 },
        heartbeatSeconds: 5,
        onlineTimeoutMs: 5000,
        ...fields,
      })
    )
    return configFile
  }

  /** A camera that shows nothing until `feed` plays a video into it. */
  function fifoCamera() {
    const fifo = join(folder, 'camera.fifo')
    execFileSync('mkfifo', [fifo])
    return fifo
  }

  function feed(fifo: string, video: string) {
    const done = pipeline(createReadStream(video), createWriteStream(fifo)).catch(() => {})
    fed.push({ fifo, done })
  }

  /** Matroska, which ffmpeg reads from a pipe (an MP4's index is at its end). */
  function clip(photos: string[]) {
    return passagesClip(photos.map(fixture), join(folder, `passages-${photos.length}.mkv`))
  }

  async function enrolled() {
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'kaley.cuoco', displayName: 'Kaley Cuoco' })
      .create()
    await enrolPhotoOf(person, await readFile(fixture('kaley_cuoco_penny1.png')))
    return person
  }

  /** A paired device whose credential the agent holds, with one enrolled person allowed through it. */
  async function pairedSite() {
    const device = await DeviceFactory.apply('approved').create()
    const person = await enrolled()
    await grant([person], [device])
    const db = openAgentDatabase(databasePath())
    writeSetting(db, 'credential', credentialOf(device).secret)
    db.close()
    return { device, person }
  }

  /** The agent's own database, read as another process would while the agent runs. */
  function agentRows<T>(sql: string) {
    // The agent may hold the lock a moment (opening its database after a SIGKILL recovers the WAL).
    const db = new DatabaseSync(databasePath(), { readOnly: true, timeout: 10_000 })
    try {
      return db.prepare(sql).all() as T[]
    } finally {
      db.close()
    }
  }

  const decisions = () =>
    agentRows<StoredDecision>(
      'select id, decision, reason, username, state, server_event_id from decisions order by seq'
    )
  const synced = () => agentRows<{ revision: number }>('select revision from sync_state').length > 0
  const events = (device: Device) => AccessEvent.query().where('device_id', device.id).orderBy('id')
  const pulses = () =>
    peer.writes.filter((write) => write.table === 'co' && write.values[0] === 1).length

  /** Synced, then cut off, then three people pass: two grants and a stranger, kept for the server. */
  async function offlineBacklog(configFile: string, camera: string) {
    const agent = start(configFile)
    await until(synced, `the first sync (${agent.output.slice(-500)})`)
    await proxy.cut()
    feed(
      camera,
      clip(['kaley_cuoco_penny2.png', 'kunal_nayyar_raj1.png', 'kaley_cuoco_penny4.png'])
    )
    await until(() => decisions().length === 3, 'three passages are decided', 90_000)
    return agent
  }

  const offlineDecisions = [
    ['granted', 'granted', 'kaley.cuoco', 'pending'],
    ['denied', 'unknown_face', null, 'pending'],
    ['granted', 'granted', 'kaley.cuoco', 'pending'],
  ]

  async function assertArrivedOnce(assert: any, device: Device, person: Person) {
    const stored = decisions()
    const recorded = await events(device)
    assert.deepEqual(
      recorded.map((event) => [
        event.terminalEventId,
        event.decision,
        event.reason,
        event.personId,
      ]),
      [
        [stored[0].id, 'granted', 'granted', person.id],
        [stored[1].id, 'denied', 'unknown_face', null],
        [stored[2].id, 'granted', 'granted', person.id],
      ],
      'each decision once, in the order it was made'
    )
    assert.deepEqual(
      stored.map((row) => [row.state, row.server_event_id]),
      recorded.map((event) => ['sent', event.id])
    )
  }

  test('first run: pairs through the code in its log, approved on the Devices page, then opens the gate for an enrolled person', async ({
    assert,
    client,
  }) => {
    const operator = await UserFactory.create()
    const person = await enrolled()
    const configFile = await configure({
      serverUrl,
      deviceName: 'Door by process',
      serial: 'PROCESS-0001',
      camera: { source: clip(['kaley_cuoco_penny2.png']), fps: 8 },
    })
    const agent = start(configFile)

    const code = await until(
      () => agent.output.match(/pairing code ([0-9]{6})/)?.[1],
      'the pairing code is logged'
    )
    const device = await Device.findByOrFail('serialNumber', 'PROCESS-0001')
    assert.equal(device.status, 'pending')
    const approved = await client
      .post(`/admin/devices/${device.id}/pairing`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ device: String(device.id), code })
      .redirects(0)
    approved.assertStatus(302)
    await grant([person], [device])

    const event = await until(async () => {
      const recorded = await events(device)
      return recorded[0]
    }, 'the passage is recorded')
    assert.deepEqual(
      [event.decision, event.reason, event.personId, event.terminalEventId],
      ['granted', 'granted', person.id, null],
      'decided by the server (faceIdentify), nothing for the outbox'
    )
    await until(() => pulses() === 1, 'the relay pulse')
    await device.refresh()
    assert.deepEqual(
      agentRows<{ name: string; value: string }>(
        `select name, value from settings where name in ('credential', 'pairing_key')`
      ),
      [{ name: 'credential', value: DeviceCredentials.secretOf(device)! }],
      'the credential kept, the pairing key dropped'
    )
    assert.include(agent.output, 'terminal agent Door by process (PROCESS-0001) running against')

    agent.signal('SIGTERM')
    assert.deepEqual(await agent.exited, { code: 0, signal: null })
    await agent.gone()
    assert.equal(pulses(), 1, 'one pulse for one passage')
  })

  test('SIGKILLed with decisions made offline, then started again: each reaches the server once, in order', async ({
    assert,
  }) => {
    const { device, person } = await pairedSite()
    const camera = fifoCamera()
    const configFile = await configure({
      deviceName: device.name,
      serial: device.serialNumber,
      camera: { source: camera, fps: 8 },
    })

    const first = await offlineBacklog(configFile, camera)
    assert.deepEqual(
      decisions().map((row) => [row.decision, row.reason, row.username, row.state]),
      offlineDecisions
    )
    await until(() => pulses() === 2, 'a pulse for each grant')
    assert.lengthOf(await events(device), 0)

    first.signal('SIGKILL')
    assert.deepEqual(await first.exited, { code: null, signal: 'SIGKILL' })
    await first.gone()
    await proxy.restore()
    const second = start(configFile)

    await until(
      () => decisions().every((row) => row.state === 'sent'),
      `the backlog is sent (${second.output.slice(-500)})`
    )
    await wait(2000)
    await assertArrivedOnce(assert, device, person)
  })

  test('the network cut while the backlog is sent, after the server recorded a report but before its answer: still each once', async ({
    assert,
    cleanup,
  }) => {
    const { device, person } = await pairedSite()
    const camera = fifoCamera()
    const configFile = await configure({
      deviceName: device.name,
      serial: device.serialNumber,
      camera: { source: camera, fps: 8 },
    })
    const agent = await offlineBacklog(configFile, camera)
    assert.deepEqual(
      decisions().map((row) => [row.decision, row.reason, row.username, row.state]),
      offlineDecisions
    )

    // The first report the server records cuts the network before its answer leaves.
    let cuts = 0
    const cutOnFirst = (event: AccessEvent) => {
      if (event.deviceId === device.id && cuts++ === 0) void proxy.cut()
    }
    AccessEvent.after('create', cutOnFirst)
    cleanup(() => {
      if (!AccessEvent.$hooks.remove('after:create', cutOnFirst)) throw new Error('hook left')
    })
    await proxy.restore()

    await until(() => cuts > 0, `the first report arrives (${agent.output.slice(-500)})`)
    await wait(3000)
    assert.lengthOf(await events(device), 1, 'the server holds the first report')
    assert.deepEqual(
      decisions().map((row) => row.state),
      ['pending', 'pending', 'pending'],
      'the agent never had its answer'
    )

    await proxy.restore()
    await until(
      () => decisions().every((row) => row.state === 'sent'),
      `the backlog is sent (${agent.output.slice(-500)})`
    )
    await wait(2000)
    await assertArrivedOnce(assert, device, person)
    assert.equal(cuts, 3, 'no report was recorded twice')
  })

  test('a configuration it cannot use: exit code 1 and a message naming the field', async ({
    assert,
  }) => {
    const base = { serverUrl, deviceName: 'Door', serial: 'PROCESS-0002' }
    const wrongType = join(folder, 'wrong-type.json')
    await writeFile(wrongType, JSON.stringify({ ...base, camera: { source: 'x.mp4', fps: 'ten' } }))
    const missing = join(folder, 'missing.json')
    await writeFile(missing, JSON.stringify({ ...base, camera: {} }))
    const broken = join(folder, 'broken.json')
    await writeFile(broken, '{ "serverUrl": ')

    const runs = [start(wrongType), start(missing), start(broken)]
    const exits = await Promise.all(runs.map((run) => run.exited))

    assert.deepEqual(
      exits.map((exit) => exit.code),
      [1, 1, 1]
    )
    assert.include(runs[0].output, `${wrongType}: "fps" must be frames per second`)
    assert.include(runs[1].output, `${missing}: "source" must be a camera`)
    assert.include(runs[2].output, `cannot read ${broken}:`)
    for (const run of runs) await run.gone()
  })
})
