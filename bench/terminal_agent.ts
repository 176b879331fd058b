/**
 * npm run bench:agent [-- --passages=30 --people=1000 --seconds=60
 *   --offline-faces=10000 --offline-decisions=2000 --port=3488]
 *
 * The terminal agent (`node ace terminal:run`) at a door, against a server
 * this bench starts on a fresh SQLite database (tmp/bench_agent.sqlite3)
 * holding `people` synthetic faces of the engine's model plus one real
 * enrolled person (tests/fixtures/pairs/kaley_cuoco_penny1.png), all
 * allowed through the agent's device. The agent's camera is a looped video
 * of that person passing (a close-up held for `--hold` seconds, then an
 * empty grey scene for `--gap` seconds), its gate a pymodbus relay board on
 * a socat pty that records when it sees each coil write.
 *
 * 1. Latency, over `passages` passages in each mode, from the camera frame
 *    the decision was made with to the 'decided' event and to the relay
 *    seeing the coil written: online (faceIdentify on the server) and
 *    offline (the server behind a TCP proxy that is cut after the agent's
 *    first sync, so the agent decides from its synced copy).
 * 2. Offline 1:N at site scale: bench/offline_identify.ts run with
 *    `offline-faces` synced faces of the agent's model.
 * 3. The agent as its own process (`node ace terminal:run`): resident
 *    memory and CPU of its process tree (the agent, its engine workers,
 *    its camera's ffmpeg) from /proc, over `seconds` with the camera on an
 *    empty grey scene and over `seconds` with people passing continuously.
 *
 * Needs Redis (REDIS_* as for the server), the models (node ace
 * models:build), ffmpeg, socat and python3-pymodbus; SQLite only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { Logger } from '@adonisjs/core/logger'
import type { DecodedImage } from '#plugin-sdk'
import { defaultEmbedder } from '#plugins/face_engine/embedder'
import { parseAgentConfig } from '#terminal-client/agent_config'
import { openAgentDatabase, writeSetting } from '#terminal-client/agent_store'
import { startTerminalAgent } from '#terminal-client/agent_runner'
import { PassageTracker } from '#terminal-client/recognition/passage_tracker'
import { ModbusPeer, type PeerWrite } from '#tests/helpers/modbus_peer'
import { TcpProxy } from '#tests/helpers/tcp_proxy'
import { passagesClip } from '#tests/helpers/video_clips'
import {
  approvedDevice,
  legacyEverything,
  migrate,
  percentile,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'
import { insertSyntheticPeople, SyntheticFaces } from './support/synthetic_faces.js'

const { values } = parseArgs({
  options: {
    'passages': { type: 'string', default: '30' },
    'people': { type: 'string', default: '1000' },
    'seconds': { type: 'string', default: '60' },
    'hold': { type: 'string', default: '1.5' },
    'gap': { type: 'string', default: '2' },
    'offline-faces': { type: 'string', default: '10000' },
    'offline-decisions': { type: 'string', default: '2000' },
    'port': { type: 'string', default: '3488' },
  },
})
const passages = Number(values.passages)
const seconds = Number(values.seconds)
const port = values.port!
const origin = `http://127.0.0.1:${port}`
const dbFile = 'bench_agent.sqlite3'
const workDir = resolve('tmp/bench_agent')
const storageDir = 'tmp/bench_agent_storage'
const agentDevice = { deviceName: 'Bench agent', serialNumber: 'BENCH-AGENT-1' }
const enrolDevice = { deviceName: 'Bench enrolment', serialNumber: 'BENCH-AGENT-ENROL' }
/** The engine's default model and its feature size, which the agent's engine embeds with too. */
const dimension = 512
const fixture = (name: string) => resolve('tests/fixtures/pairs', name)
const logger = new Logger({ enabled: true, name: 'bench-agent', level: 'error' })
const wait = (ms: number) => new Promise((done) => setTimeout(done, ms))
/** Milliseconds on the clock the relay board stamps its writes with (CLOCK_MONOTONIC). */
const monotonic = () => Number(process.hrtime.bigint()) / 1e6

async function until<T>(check: () => T, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(50)
  }
}

/**
 * The frames the agent decided with, in order: the tracker hands each
 * passage's frame out once and the agent decides passages one at a time,
 * so each 'decided' event (or a retry, when the engine found no face
 * again) takes the oldest.
 */
const readyFrames: number[] = []
{
  const observe = PassageTracker.prototype.observe
  PassageTracker.prototype.observe = function (this: PassageTracker<DecodedImage>, observation) {
    const step = observe.call(this, observation)
    if (step.ready) readyFrames.push(step.ready.at)
    return step
  }
  const retry = PassageTracker.prototype.retry
  PassageTracker.prototype.retry = function (this: PassageTracker<DecodedImage>) {
    readyFrames.shift()
    retry.call(this)
  }
}

async function call(endpoint: string, body: URLSearchParams) {
  const response = await fetch(`${origin}/faces/api/${endpoint}`, { method: 'POST', body })
  return (await response.json()) as Record<string, unknown> & { code: number }
}

/** The site: the agent's device, `people` synthetic people and the real one, one access group. */
function seedSite() {
  const printed = approvedDevice(dbFile, agentDevice)
  const secret = /(fa1_[A-Za-z0-9_-]+)/.exec(printed)?.[1]
  if (!secret) throw new Error(`no credential in: ${printed}`)
  approvedDevice(dbFile, enrolDevice, legacyEverything)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const groupId = sqlite
    .prepare(`insert into access_groups (name, created_at, updated_at) values ('Bench', ?, ?)`)
    .run(now, now).lastInsertRowid
  sqlite
    .prepare(
      `insert into access_group_devices (access_group_id, device_id)
       select ?, id from devices where serial_number = ?`
    )
    .run(groupId, agentDevice.serialNumber)
  insertSyntheticPeople(
    sqlite,
    new SyntheticFaces(dimension),
    { people: Number(values.people), facesPerPerson: 1, model: defaultEmbedder, groupId },
    now
  )
  sqlite.close()
  return { secret, groupId }
}

/** The real person enrolled through the server's engine, as a kiosk would, and let through. */
async function enrolRealPerson(groupId: number | bigint) {
  const photo = await readFile(fixture('kaley_cuoco_penny1.png'))
  const enrolled = await call(
    'regFace',
    new URLSearchParams({
      deviceName: enrolDevice.deviceName,
      deviceSN: enrolDevice.serialNumber,
      username: 'kaley.cuoco',
      faceName: 'Kaley Cuoco',
      picBase64: photo.toString('base64'),
    })
  )
  if (enrolled.code !== 0) throw new Error(`regFace failed: ${JSON.stringify(enrolled)}`)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  sqlite
    .prepare(
      `insert into access_group_people (access_group_id, person_id)
       select ?, id from people where username = 'kaley.cuoco'`
    )
    .run(groupId)
  sqlite.close()
}

/** The agent's configuration in `folder`, its credential stored in its database. */
function agentSetup(
  folder: string,
  options: { serverUrl: string; video: string; bus: ModbusPeer['bus'] }
) {
  mkdirSync(folder, { recursive: true })
  const pluginsFile = join(folder, 'plugins.json')
  writeFileSync(
    pluginsFile,
    JSON.stringify([
      { id: 'engine', plugin: 'face-engine', config: { poolSize: 1 } },
      {
        id: 'gate',
        plugin: 'modbus-gate',
        config: { bus: options.bus, unitId: 1, timeoutMs: 1000, open: { coil: 0 } },
      },
    ])
  )
  const source = {
    serverUrl: options.serverUrl,
    deviceName: agentDevice.deviceName,
    serial: agentDevice.serialNumber,
    dataDir: join(folder, 'data'),
    mode: 'auto',
    camera: { source: options.video, fps: 8, loop: true },
    pluginsFile,
    door: { gate: 'gate', openMs: 500 },
    liveness: 'none',
    kiosk: { port: 0 },
    heartbeatSeconds: 30,
    onlineTimeoutMs: 5000,
  }
  const config = parseAgentConfig(source, folder)
  mkdirSync(config.dataDir, { recursive: true })
  const db = openAgentDatabase(join(config.dataDir, 'agent.sqlite3'))
  writeSetting(db, 'credential', secret)
  db.close()
  const file = join(folder, 'agent.json')
  writeFileSync(file, JSON.stringify(source))
  return { config, file }
}

type Passage = {
  decision: string
  decidedBy: string
  /** The decision's frame, its 'decided' event and the coil write, on the monotonic clock. */
  frame: number
  decided: number
  coil?: number
}

/**
 * Part 1: the agent in this process, `passages` passages measured in
 * `mode` after two passages of warm-up (the engine's first runs, the
 * connection settling). Offline, the server sits behind a proxy cut once
 * the agent has synced.
 */
async function latencies(mode: 'online' | 'offline', peer: ModbusPeer, video: string) {
  const proxy =
    mode === 'offline' ? await new TcpProxy({ host: '127.0.0.1', port: +port }).start() : null
  const { config } = agentSetup(join(workDir, mode), {
    serverUrl: proxy?.url ?? origin,
    video,
    bus: peer.bus,
  })
  const { plugins } = await import('#generated/plugins')
  readyFrames.length = 0
  const running = await startTerminalAgent(config, { logger, plugins })
  const measured: Passage[] = []
  let warmUp = 2
  let measuring = mode === 'online'
  running.agent.on('decided', (result) => {
    const frameAt = readyFrames.shift()
    const decided = monotonic()
    const clockOffset = Date.now() - decided
    const wanted = mode === 'online' ? 'server' : 'terminal'
    if (!measuring || frameAt === undefined || result.decidedBy !== wanted) return
    if (warmUp > 0) {
      warmUp--
      return
    }
    if (measured.length >= passages) return
    const frame = frameAt - clockOffset
    measured.push({ decision: result.decision, decidedBy: result.decidedBy, frame, decided })
  })
  try {
    if (proxy) {
      await until(() => running.sync!.revision !== null, 'the first sync')
      await proxy.cut()
      measuring = true
    }
    const perPassage = (Number(values.hold) + Number(values.gap)) * 1000
    await until(
      () => measured.length >= passages,
      `${passages} passages`,
      passages * perPassage * 3
    )
    await wait(1500)
  } finally {
    await running.stop()
    await proxy?.stop()
  }
  matchCoilWrites(measured, peer.writes)
  return measured
}

/** Each grant's pulse: the first coil switched on after its 'decided' event. */
function matchCoilWrites(measured: Passage[], writes: PeerWrite[]) {
  const pulses = writes.filter((write) => write.table === 'co' && write.values[0] === 1)
  let next = 0
  for (const passage of measured) {
    if (passage.decision !== 'granted') continue
    while (next < pulses.length && pulses[next].at < passage.decided - 1) next++
    if (next < pulses.length) passage.coil = pulses[next++].at
  }
}

function latencyRows(mode: string, measured: Passage[]) {
  const row = (what: string, times: number[]) => {
    const sorted = times.sort((a, b) => a - b)
    if (sorted.length === 0) return `| ${mode} | ${what} | 0 | – | – | – |`
    const cells = [0.5, 0.99].map((share) => percentile(sorted, share))
    return `| ${mode} | ${what} | ${sorted.length} | ${cells.join(' | ')} | ${sorted.at(-1)!.toFixed(1)} |`
  }
  const granted = measured.filter((passage) => passage.coil !== undefined)
  return [
    row(
      'frame → decided',
      measured.map((passage) => passage.decided - passage.frame)
    ),
    row(
      'frame → coil written',
      granted.map((passage) => passage.coil! - passage.frame)
    ),
  ]
}

type ProcessSample = { pid: number; ppid: number; kind: string; ticks: number; rssBytes: number }

/** The process `root` and its descendants, from /proc. */
function processTree(root: number): ProcessSample[] {
  const all: ProcessSample[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8')
      const kind = cmdline.includes('engine_worker')
        ? 'engine workers'
        : comm === 'ffmpeg'
          ? 'camera (ffmpeg)'
          : 'agent (node)'
      all.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        kind,
        ticks: Number(fields[11]) + Number(fields[12]),
        rssBytes: Number(fields[21]) * 4096,
      })
    } catch {
      // The process ended while it was read.
    }
  }
  const tree = new Set([root])
  let grown = true
  while (grown) {
    grown = false
    for (const entry of all) {
      if (!tree.has(entry.pid) && tree.has(entry.ppid)) {
        tree.add(entry.pid)
        grown = true
      }
    }
  }
  return all.filter((entry) => tree.has(entry.pid))
}

/**
 * Part 3: `node ace terminal:run` on its own, sampled once a second for
 * `seconds` after its engine has warmed up: resident memory (mean and
 * peak of the tree's sum) and CPU (share of one core) per kind of process.
 */
async function resources(scene: string, video: string, peer: ModbusPeer) {
  const { file } = agentSetup(join(workDir, `process_${scene}`), {
    serverUrl: origin,
    video,
    bus: peer.bus,
  })
  const agent: ChildProcess = spawn(process.execPath, ['ace', 'terminal:run', `--config=${file}`], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  agent.stdout!.on('data', (chunk) => (output += chunk))
  agent.stderr!.on('data', (chunk) => (output += chunk))
  try {
    await until(
      () => output.includes('running against') || agent.exitCode !== null,
      'the agent runs'
    )
    if (agent.exitCode !== null) throw new Error(`the agent exited: ${output}`)
    // The engine workers load their models and the first passages are decided.
    await wait(15_000)
    const pulsesBefore = peer.writes.filter((w) => w.table === 'co' && w.values[0] === 1).length
    const totals = new Map<string, { ticks: number; rss: number[]; processes: number }>()
    const sums: number[] = []
    let previous = new Map(processTree(agent.pid!).map((entry) => [entry.pid, entry.ticks]))
    const started = performance.now()
    while (performance.now() - started < seconds * 1000) {
      await wait(1000)
      const tree = processTree(agent.pid!)
      const byKind = new Map<string, number>()
      for (const entry of tree) {
        const total = totals.get(entry.kind) ?? { ticks: 0, rss: [], processes: 0 }
        total.ticks += entry.ticks - (previous.get(entry.pid) ?? 0)
        totals.set(entry.kind, total)
        byKind.set(entry.kind, (byKind.get(entry.kind) ?? 0) + entry.rssBytes)
      }
      for (const [kind, bytes] of byKind) totals.get(kind)!.rss.push(bytes)
      for (const [kind, total] of totals) {
        const count = tree.filter((entry) => entry.kind === kind).length
        total.processes = Math.max(total.processes, count)
      }
      sums.push(tree.reduce((sum, entry) => sum + entry.rssBytes, 0))
      previous = new Map(tree.map((entry) => [entry.pid, entry.ticks]))
    }
    const elapsed = (performance.now() - started) / 1000
    const pulses =
      peer.writes.filter((w) => w.table === 'co' && w.values[0] === 1).length - pulsesBefore
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
    const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / Math.max(list.length, 1)
    const cpu = (ticks: number) => `${(ticks / elapsed).toFixed(0)} %`
    const rows = [...totals].map(
      ([kind, total]) =>
        `| ${scene} | ${kind} (${total.processes}) | ${mb(mean(total.rss))} | ${mb(Math.max(...total.rss))} | ${cpu(total.ticks)} |`
    )
    const allTicks = [...totals.values()].reduce((sum, total) => sum + total.ticks, 0)
    rows.push(
      `| ${scene} | **whole agent** | ${mb(mean(sums))} | ${mb(Math.max(...sums))} | ${cpu(allTicks)} |`
    )
    return { rows, pulses }
  } finally {
    if (agent.exitCode === null) {
      const exited = new Promise((done) => agent.once('exit', done))
      agent.kill('SIGTERM')
      await exited
    }
  }
}

/** An empty grey scene, as the camera sees a door with nobody at it. */
function greyClip(output: string) {
  const result = spawnSync(
    '/usr/bin/ffmpeg',
    [
      '-y',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=0x808080:s=640x480:r=10',
      '-t',
      '10',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      output,
    ],
    { encoding: 'utf8' }
  )
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`)
  return output
}

await rm(workDir, { recursive: true, force: true })
await Promise.all(['', '-wal', '-shm'].map((end) => rm(`tmp/${dbFile}${end}`, { force: true })))
mkdirSync(workDir, { recursive: true })
const benchStarted = performance.now()
const loadBefore = loadavg()[0].toFixed(1)
migrate(dbFile)
const { secret, groupId } = seedSite()
const passing = passagesClip(
  ['kaley_cuoco_penny2.png', 'kaley_cuoco_penny4.png'].map(fixture),
  join(workDir, 'passages.mp4'),
  { seconds: Number(values.hold), gapSeconds: Number(values.gap) }
)
const grey = greyClip(join(workDir, 'grey.mp4'))

const server = await startServer({
  port,
  dbFile,
  engine: 'engine',
  env: {
    STORAGE_DIR: storageDir,
    DEVICE_RATE_PER_DEVICE: '100000000',
    DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
  },
})
const peer = await ModbusPeer.rtu()
const latencyTable: string[] = []
const resourceTable: string[] = []
const notes: string[] = []
try {
  await enrolRealPerson(groupId)
  for (const mode of ['online', 'offline'] as const) {
    const measured = await latencies(mode, peer, passing)
    const granted = measured.filter((passage) => passage.decision === 'granted').length
    notes.push(`${mode}: ${granted} of ${measured.length} passages granted`)
    latencyTable.push(...latencyRows(mode, measured))
  }
  for (const [scene, video] of [
    ['idle (grey scene)', grey],
    ['recognising', passing],
  ] as const) {
    const { rows, pulses } = await resources(scene, video, peer)
    resourceTable.push(...rows)
    notes.push(`${scene}: ${pulses} gate pulses in the ${seconds} s sampled`)
  }
} finally {
  await peer.stop()
  await stopServer(server)
}

const offline = spawnSync(
  process.execPath,
  [
    '--import=@poppinss/ts-exec',
    'bench/offline_identify.ts',
    `--faces=${values['offline-faces']}`,
    `--decisions=${values['offline-decisions']}`,
    `--port=${port}`,
    `--model=${defaultEmbedder}`,
    `--dimension=${dimension}`,
  ],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }
)
if (offline.status !== 0) throw new Error('bench/offline_identify.ts failed')

console.log(
  `\nTerminal agent, ${Number(values.people).toLocaleString('en')} synthetic people + 1 real, ` +
    `camera 640×480 at 8 fps, engine pool 1, relay on a pty (load ${loadBefore} before, ` +
    `${loadavg()[0].toFixed(1)} after, ${availableParallelism()} cores)\n`
)
console.log('| mode | from the decision frame to | passages | p50 ms | p99 ms | max ms |')
console.log('|---|---|---:|---:|---:|---:|')
for (const line of latencyTable) console.log(line)
console.log(`\nAgent process tree (node ace terminal:run), ${seconds} s each\n`)
console.log('| scene | processes (most at once) | RSS mean MB | RSS peak MB | CPU (of one core) |')
console.log('|---|---|---:|---:|---:|')
for (const line of resourceTable) console.log(line)
console.log(offline.stdout.slice(offline.stdout.indexOf('\nOffline decisions')))
for (const note of notes) console.log(note)
console.log(`bench time ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`)
await rm(storageDir, { recursive: true, force: true })
process.exit(0)
