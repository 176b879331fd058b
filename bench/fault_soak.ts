/**
 * node --import=@poppinss/ts-exec bench/fault_soak.ts \
 *   [--minutes=60] [--clients=4] [--redis-restarts=2] [--port=3481] [--redis-port=6402]
 *
 * Mixed terminal traffic for a long time while the server's Redis is
 * restarted, to show that an outage costs terminals only documented,
 * retried refusals: no other 5xx, no acknowledged access event lost or
 * recorded twice, and no memory growth.
 *
 * Starts a redis-server of its own on `--redis-port` (in
 * tmp/bench_fault_soak_redis, saving nothing: each restart brings Redis
 * back empty, the harder case, in which every token, rate count, sync
 * point and presence record is gone), a fresh SQLite database
 * (tmp/bench_fault_soak.sqlite3) with one approved legacy device per
 * terminal at 127.0.0.1, and the server on them. Enrols 8 people through
 * regFace from the first photos of tests/fixtures/pairs (a photo regFace
 * refuses is skipped with a note), then runs `clients` terminals until the
 * deadline, each loop a token and then, in proportions 2:2:1, a
 * faceIdentify of a fixture photo, a clinetFeedback with an `eventId` of
 * its own, or a getDbs `since` its last revision. A terminal does what
 * firmware should: on 9007 with HTTP 503 or a network error it waits
 * Retry-After (at most 5 s) and repeats the same call (the same eventId,
 * a new token). Redis is stopped `redis-restarts` times, evenly spread,
 * and started again 5 s later. The resident memory of the server and of
 * its engine workers is sampled every 5 s.
 *
 * At the end, reads the database to check that every acknowledged
 * feedback (answer 0) was recorded exactly once, prints the calls, HTTP
 * statuses, outages as the terminals saw them, memory and events, and
 * PASS or FAIL against the goals: no 5xx but the 503s during outages,
 * every refused call answered once repeated, memory of the last tenth of
 * the run within 10% of the first tenth, no acknowledged event lost or
 * doubled. Exits 1 on FAIL. Removes its Redis, database and storage when
 * it ends, also on Ctrl-C. Needs redis-server and redis-cli on the PATH
 * and the models (node ace models:build); SQLite only.
 */
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify, parseArgs } from 'node:util'
import {
  FacesApiClient,
  type FacesApiAnswer,
  type FacesApiFields,
  type FacesApiFile,
} from '#terminal-client/faces_api_client'
import {
  approvedDevice,
  legacyEverything,
  migrate,
  percentile,
  residentMegabytes,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    'minutes': { type: 'string', default: '60' },
    'clients': { type: 'string', default: '4' },
    'redis-restarts': { type: 'string', default: '2' },
    'port': { type: 'string', default: '3481' },
    'redis-port': { type: 'string', default: '6402' },
  },
})
const runMs = Number(values.minutes) * 60_000
const clients = Number(values.clients)
const restarts = Number(values['redis-restarts'])
const redisPort = values['redis-port']
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_fault_soak.sqlite3'
const storageDir = 'tmp/bench_fault_soak_storage'
const redisDir = resolve('tmp/bench_fault_soak_redis')
const people = 8
const redisDownMs = 5000
/** The longest a terminal waits before repeating a refused call, whatever Retry-After says. */
const retryCapSeconds = 5
/** A call unanswered this long is a network error to the terminal, as a firmware timeout. */
const callTimeoutMs = 30_000
/** A 503 this long after Redis answers again still belongs to its outage. */
const outageGraceMs = 30_000
/** How long a terminal may go on repeating one call after the deadline before it gives up. */
const drainMs = 120_000
const execFileAsync = promisify(execFile)

let server: ChildProcess | null = null
let serverExited = false
/** Set once the bench cleans up, so that an outage in progress does not start Redis again. */
let shuttingDown = false

/**
 * The bench's own redis-server: started, stopped (its data discarded) and
 * started again on the same port with the same settings.
 */
const redis = {
  args: [
    '--port',
    redisPort,
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
    '--dir',
    redisDir,
    '--pidfile',
    `${redisDir}/redis.pid`,
    '--logfile',
    `${redisDir}/redis.log`,
  ],
  startedOnce: false,

  async answers() {
    return execFileAsync('redis-cli', ['-p', redisPort, 'ping'], { timeout: 2000 }).then(
      ({ stdout }) => stdout.trim() === 'PONG',
      () => false
    )
  },

  async until(state: boolean, what: string) {
    for (let waited = 0; waited < 10_000; waited += 100) {
      if ((await redis.answers()) === state) return
      await sleep(100)
    }
    throw new Error(`redis-server on port ${redisPort} did not ${what} within 10 s`)
  },

  async start() {
    if (shuttingDown) return
    const started = spawnSync('redis-server', redis.args, { encoding: 'utf8' })
    if (started.status !== 0) throw new Error(`redis-server: ${started.stderr || started.stdout}`)
    redis.startedOnce = true
    await redis.until(true, 'answer')
  },

  async stop() {
    await execFileAsync('redis-cli', ['-p', redisPort, 'shutdown', 'nosave']).catch(() => {})
    await redis.until(false, 'stop')
  },
}

type Outage = { index: number; stoppingAt: number; downAt: number; backAt: number | null }
type Refusal = { at: number; outage: Outage | null }
type Sample = { at: number; serverMb: number; workersMb: number }
type Photo = { name: string; bytes: Uint8Array }
type Person = { username: string; faceName: string }

const tally = () => new Map<string, number>()
const count = (map: Map<string, number>, key: string | number, by = 1) =>
  map.set(String(key), (map.get(String(key)) ?? 0) + by)

/** What the terminals saw, for the report. */
const seen = {
  answers: new Map<string, Map<string, number>>(),
  latencies: new Map<string, number[]>(),
  statuses: tally(),
  refusals: [] as Refusal[],
  otherServerErrors: tally(),
  networkErrors: tally(),
  retries: 0,
  refusedCalls: 0,
  refusedCallsAnswered: 0,
  longestWaitMs: new Map<Outage | null, number>(),
  acknowledged: new Set<string>(),
  feedbackSent: 0,
}
const outages: Outage[] = []
const samples: Sample[] = []
let trafficStartedAt = 0
const now = () => performance.now() - trafficStartedAt

/** The outage a moment falls in: from its stop until a while after Redis answered again. */
function outageAt(at: number) {
  return (
    outages.find(
      (outage) =>
        at >= outage.stoppingAt && (outage.backAt === null || at <= outage.backAt + outageGraceMs)
    ) ?? null
  )
}

/** The first photo of each person in tests/fixtures/pairs, and every photo as a probe. */
async function fixturePhotos() {
  const folder = 'tests/fixtures/pairs'
  const files = await readdir(folder)
  const names = files.filter((name) => /\.(jpe?g|png)$/.test(name)).sort()
  const probes: Photo[] = await Promise.all(
    names.map(async (name) => ({ name, bytes: await readFile(`${folder}/${name}`) }))
  )
  const firstOfEach = new Map<string, Photo>()
  for (const photo of probes) {
    const person = photo.name.replace(/_?\d*\.\w+$/, '')
    if (!firstOfEach.has(person)) firstOfEach.set(person, photo)
  }
  return { probes, firstPhotos: [...firstOfEach.values()] }
}

/** Enrols the first `people` photos that regFace takes, and notes those it refuses. */
async function enrol(terminal: FacesApiClient, photos: Photo[]) {
  const enrolled: Person[] = []
  for (const photo of photos) {
    if (enrolled.length === people) break
    const username = photo.name.replace(/_?\d*\.\w+$/, '').replaceAll('_', '.')
    const answer = await terminal.regFace({ username, faceName: username, photo: photo.bytes })
    if (answer.code === 0) enrolled.push({ username, faceName: username })
    else console.log(`skipped ${photo.name}: regFace answered ${answer.code} (${answer.message})`)
  }
  if (enrolled.length < people) console.log(`only ${enrolled.length} of ${people} people enrolled`)
  return enrolled
}

/**
 * A terminal whose every response is counted by HTTP status, and whose
 * last status and Retry-After tell a refusal from an answer.
 */
function terminalFor(device: { deviceName: string; serialNumber: string }) {
  const last = { status: 0, retryAfter: null as string | null }
  const recording: typeof fetch = async (input, init) => {
    last.status = 0
    last.retryAfter = null
    const response = await fetch(input, { ...init, signal: AbortSignal.timeout(callTimeoutMs) })
    last.status = response.status
    last.retryAfter = response.headers.get('retry-after')
    const outage = outageAt(now())
    if (response.status === 503 && outage) count(seen.statuses, '503 during an outage')
    else count(seen.statuses, response.status)
    if (response.status >= 500 && !(response.status === 503 && outage)) {
      const path = new URL(String(input)).pathname
      const body = await response.clone().text()
      count(
        seen.otherServerErrors,
        `${response.status} ${path} at ${(now() / 1000).toFixed(0)} s: ${body.slice(0, 160)}`
      )
    }
    return response
  }
  return { device, last, client: new FacesApiClient(origin, device, { fetch: recording }) }
}
type Terminal = ReturnType<typeof terminalFor>

/**
 * One call as firmware makes it: a token, then the call, both repeated
 * after Retry-After (at most 5 s) while the server refuses them with 503 or
 * cannot be reached. Resolves with the answer, or null when the terminal
 * gave up (the server exited, or the run is long over).
 */
async function persist(
  terminal: Terminal,
  endpoint: string,
  fields: FacesApiFields,
  files?: Record<string, FacesApiFile>
): Promise<FacesApiAnswer | null> {
  let firstRefusalAt: number | null = null
  let refusedIn: Outage | null = null
  const refused = async (error: unknown) => {
    const at = now()
    const outage = outageAt(at)
    if (error) {
      const reason = terminal.last.status
        ? `unreadable ${terminal.last.status} answer`
        : String(error)
      count(seen.networkErrors, `${reason}${outage ? ' (during an outage)' : ''}`)
    }
    seen.refusals.push({ at, outage })
    if (firstRefusalAt === null) {
      firstRefusalAt = at
      refusedIn = outage
      seen.refusedCalls++
    }
    seen.retries++
    const retryAfter = Number(terminal.last.retryAfter ?? retryCapSeconds)
    await sleep(
      Math.min(Number.isFinite(retryAfter) ? retryAfter : retryCapSeconds, retryCapSeconds) * 1000
    )
  }
  const attempt = async (name: string, call: () => Promise<FacesApiAnswer>) => {
    const started = performance.now()
    try {
      const answer = await call()
      count(answersOf(name), answer.code)
      if (answer.code === 9007 && terminal.last.status === 503) return null
      latenciesOf(name).push(performance.now() - started)
      return answer
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
  }
  for (;;) {
    if (serverExited || now() > runMs + drainMs) return null
    const token = await attempt('token', () => terminal.client.call('token'))
    if (token === null || token instanceof Error) {
      await refused(token)
      continue
    }
    if (token.code !== 0) return settled(token)
    const answer = await attempt(endpoint, () =>
      terminal.client.call(endpoint, { ...fields, token: token.token as string }, { files })
    )
    if (answer === null || answer instanceof Error) {
      await refused(answer)
      continue
    }
    return settled(answer)
  }

  function settled(answer: FacesApiAnswer) {
    if (firstRefusalAt !== null) {
      seen.refusedCallsAnswered++
      const waited = now() - firstRefusalAt
      seen.longestWaitMs.set(refusedIn, Math.max(seen.longestWaitMs.get(refusedIn) ?? 0, waited))
    }
    return answer
  }
}

function answersOf(endpoint: string) {
  if (!seen.answers.has(endpoint)) seen.answers.set(endpoint, tally())
  return seen.answers.get(endpoint)!
}

function latenciesOf(endpoint: string) {
  if (!seen.latencies.has(endpoint)) seen.latencies.set(endpoint, [])
  return seen.latencies.get(endpoint)!
}

/** A terminal's traffic until the deadline: identify, report and sync, 2:2:1. */
async function runTerminal(terminal: Terminal, index: number, probes: Photo[], enrolled: Person[]) {
  const random = generator(index + 1)
  let revision: number | undefined
  let reports = 0
  while (now() < runMs && !serverExited) {
    const draw = random() * 5
    if (draw < 2) {
      const probe = probes[Math.floor(random() * probes.length)]
      await persist(terminal, 'faceIdentify', {}, { image: { data: probe.bytes } })
    } else if (draw < 4) {
      const person = enrolled[Math.floor(random() * enrolled.length)]
      const eventId = `${terminal.device.serialNumber}-${++reports}`
      seen.feedbackSent++
      const answer = await persist(terminal, 'clinetFeedback', {
        faceName: person.faceName,
        username: person.username,
        time: Math.floor(Date.now() / 1000),
        score: 0.9,
        eventId,
      })
      if (answer?.code === 0) seen.acknowledged.add(eventId)
    } else {
      const answer = await persist(terminal, 'getDbs', { since: revision })
      if (answer?.code === 0) revision = answer.revision as number
    }
  }
}

/** Stops Redis for 5 s, `restarts` times, evenly spread over the run. */
async function restartRedis() {
  for (let index = 1; index <= restarts; index++) {
    await sleep(Math.max(0, (runMs * index) / (restarts + 1) - now()))
    if (serverExited) return
    const outage: Outage = { index, stoppingAt: now(), downAt: 0, backAt: null }
    outages.push(outage)
    await redis.stop()
    outage.downAt = now()
    await sleep(redisDownMs)
    await redis.start()
    outage.backAt = now()
    console.log(
      `outage ${index}: Redis stopped at ${(outage.stoppingAt / 1000).toFixed(0)} s, ` +
        `answering again ${((outage.backAt - outage.downAt) / 1000).toFixed(1)} s after it went down`
    )
  }
}

/** Samples the resident memory of the server and of its children (the engine workers) every 5 s. */
function sampleMemory(serverPid: number) {
  const sample = async () => {
    const workers = await childrenOf(serverPid)
    const workersMb = await Promise.all(workers.map((pid) => residentMegabytes(pid).catch(() => 0)))
    samples.push({
      at: now(),
      serverMb: await residentMegabytes(serverPid),
      workersMb: workersMb.reduce((sum, mb) => sum + mb, 0),
    })
  }
  const timer = setInterval(() => void sample().catch(() => {}), 5000)
  return () => clearInterval(timer)
}

async function childrenOf(pid: number) {
  const tasks = await readdir(`/proc/${pid}/task`)
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => ''))
  )
  return lists.flatMap((list) => list.split(/\s+/).filter(Boolean).map(Number))
}

/** How often each terminal event id was recorded, from the database itself. */
function recordedEventIds() {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  try {
    const rows = sqlite
      .prepare(
        `select terminal_event_id as id, count(*) as times from access_events
         where terminal_event_id is not null group by terminal_event_id`
      )
      .all() as { id: string; times: number }[]
    return new Map(rows.map((row) => [row.id, Number(row.times)]))
  } finally {
    sqlite.close()
  }
}

/** A small deterministic generator, so that every run draws the same calls. */
function generator(seed: number) {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

function sleep(ms: number) {
  return new Promise((done) => setTimeout(done, ms))
}

let cleaning: Promise<void> | null = null

/** Removes the database, storage and Redis folder of this bench (and of an earlier run). */
async function removeFiles() {
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    await rm(`tmp/${dbFile}${suffix}`, { force: true })
  }
  await rm(storageDir, { recursive: true, force: true })
  await rm(redisDir, { recursive: true, force: true })
}

/** Stops the server and the bench's Redis, then removes their files. */
function cleanUp() {
  cleaning ??= (async () => {
    shuttingDown = true
    if (server && server.exitCode === null && server.signalCode === null) await stopServer(server)
    if (redis.startedOnce) await redis.stop().catch(() => {})
    await removeFiles()
  })()
  return cleaning
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping and cleaning up`)
    void cleanUp().finally(() => process.exit(130))
  })
}

if (await redis.answers()) {
  throw new Error(`something already answers on port ${redisPort}; choose another --redis-port`)
}
let recorded = new Map<string, number>()
let elapsedMs = 0
let serverDied = false
let enrolledCount = 0
try {
  await removeFiles()
  await mkdir(redisDir, { recursive: true })
  await redis.start()
  // The migrations and ace commands boot the app, which connects to Redis too.
  Object.assign(process.env, { REDIS_HOST: '127.0.0.1', REDIS_PORT: redisPort, REDIS_PASSWORD: '' })
  migrate(dbFile)
  const devices = Array.from({ length: clients }, (_, index) => ({
    deviceName: `Bench fault soak ${index + 1}`,
    serialNumber: `BENCH-FAULT-${index + 1}`,
  }))
  for (const device of devices) approvedDevice(dbFile, device, legacyEverything)
  const { probes, firstPhotos } = await fixturePhotos()

  server = await startServer({
    port: values.port,
    dbFile,
    engine: 'engine',
    env: {
      STORAGE_DIR: storageDir,
      DEVICE_RATE_PER_DEVICE: '100000000',
      DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
    },
  })
  server.once('exit', () => (serverExited = true))
  const terminals = devices.map((device) => terminalFor(device))
  const enrolled = await enrol(terminals[0].client, firstPhotos)
  enrolledCount = enrolled.length
  if (enrolled.length === 0) throw new Error('nobody could be enrolled')

  seen.answers.clear()
  seen.latencies.clear()
  seen.statuses.clear()
  trafficStartedAt = performance.now()
  const stopSampling = sampleMemory(server.pid!)
  await Promise.all([
    restartRedis(),
    ...terminals.map((terminal, index) => runTerminal(terminal, index, probes, enrolled)),
  ])
  elapsedMs = now()
  stopSampling()
  serverDied = serverExited
  if (!serverDied) await stopServer(server)
  recorded = recordedEventIds()
} finally {
  await cleanUp()
}

const byEndpoint = Object.fromEntries(
  [...seen.answers].map(([endpoint, answers]) => {
    const sorted = [...(seen.latencies.get(endpoint) ?? [])].sort((a, b) => a - b)
    return [
      endpoint,
      {
        'answers': [...answers.values()].reduce((sum, n) => sum + n, 0),
        'by code': JSON.stringify(Object.fromEntries(answers)),
        'p50 ms': sorted.length ? percentile(sorted, 0.5) : '-',
        'p99 ms': sorted.length ? percentile(sorted, 0.99) : '-',
      },
    ]
  })
)

const outsideOutages = seen.refusals.filter((refusal) => refusal.outage === null).length
const otherServerErrors = [...seen.otherServerErrors.values()].reduce((sum, n) => sum + n, 0)
const outageRows = Object.fromEntries(
  outages.map((outage) => {
    const refusals = seen.refusals.filter((refusal) => refusal.outage === outage)
    const times = refusals.map((refusal) => refusal.at - outage.stoppingAt)
    const seconds = (ms: number) => (ms / 1000).toFixed(1)
    return [
      `outage ${outage.index}`,
      {
        'stopped at s': seconds(outage.stoppingAt),
        'Redis down s': outage.backAt === null ? '-' : seconds(outage.backAt - outage.downAt),
        'refusals': refusals.length,
        'first refusal after stop s': times.length ? seconds(Math.min(...times)) : '-',
        'last refusal after stop s': times.length ? seconds(Math.max(...times)) : '-',
        'longest a call waited s': seconds(seen.longestWaitMs.get(outage) ?? 0),
      },
    ]
  })
)

function memoryRow(pick: (sample: Sample) => number) {
  const tenth = Math.max(1, Math.floor(samples.length / 10))
  const average = (part: Sample[]) =>
    part.reduce((sum, sample) => sum + pick(sample), 0) / part.length
  const first = average(samples.slice(0, tenth))
  const last = average(samples.slice(-tenth))
  const change = ((last - first) / first) * 100
  const row = {
    'first 10% avg MB': first.toFixed(0),
    'last 10% avg MB': last.toFixed(0),
    'change %': change.toFixed(1),
    'peak MB': Math.max(...samples.map(pick)),
  }
  return { row, change }
}
/** The resident memory over the run, a row per tenth, to tell a warm-up from a creep. */
function memorySeries() {
  const tenth = Math.max(1, Math.floor(samples.length / 10))
  const rows: Record<string, Record<string, string | number>> = {}
  for (let start = 0; start < samples.length; start += tenth) {
    const part = samples.slice(start, start + tenth)
    const average = (pick: (sample: Sample) => number) =>
      (part.reduce((sum, sample) => sum + pick(sample), 0) / part.length).toFixed(0)
    rows[`${(part[0].at / 1000).toFixed(0)}–${(part.at(-1)!.at / 1000).toFixed(0)} s`] = {
      'server avg MB': average((sample) => sample.serverMb),
      'engine workers avg MB': average((sample) => sample.workersMb),
      'engine workers max MB': Math.max(...part.map((sample) => sample.workersMb)),
    }
  }
  return rows
}
const memory = samples.length
  ? { server: memoryRow((s) => s.serverMb), workers: memoryRow((s) => s.workersMb) }
  : null

const lost = [...seen.acknowledged].filter((id) => !recorded.has(id))
const twice = [...recorded].filter(([, times]) => times > 1)
const unacknowledged = [...recorded.keys()].filter((id) => !seen.acknowledged.has(id))

console.log(
  `\n${origin}: ${(elapsedMs / 60_000).toFixed(1)} min of traffic from ${clients} terminals, ` +
    `${enrolledCount} people enrolled, Redis (port ${redisPort}, nothing saved) restarted ` +
    `${outages.length} times; ${availableParallelism()} CPUs shared with the load generator ` +
    `(load ${loadavg()[0].toFixed(2)})`
)
console.table(byEndpoint)
console.table({
  ...Object.fromEntries([...seen.statuses].sort()),
  'network errors': [...seen.networkErrors.values()].reduce((sum, n) => sum + n, 0),
  'retries': seen.retries,
  'calls refused at least once': seen.refusedCalls,
  'of which answered once repeated': seen.refusedCallsAnswered,
  'refusals outside outages': outsideOutages,
})
if (outages.length) console.table(outageRows)
if (memory) {
  console.table({
    'server': memory.server.row,
    'engine workers': memory.workers.row,
  })
  console.table(memorySeries())
}
console.table({
  'feedback reports sent': seen.feedbackSent,
  'acknowledged (answer 0)': seen.acknowledged.size,
  'recorded in the database': recorded.size,
  'lost acknowledged events': lost.length,
  'recorded twice': twice.length,
  'recorded, not acknowledged': unacknowledged.length,
})
for (const [error, times] of seen.otherServerErrors) console.log(`${times}× ${error}`)
for (const [error, times] of seen.networkErrors) console.log(`${times}× network error: ${error}`)

const problems = [
  serverDied ? 'the server exited during the run' : null,
  otherServerErrors > 0 ? `${otherServerErrors} 5xx other than 503 during an outage` : null,
  outsideOutages > 0 ? `${outsideOutages} refusals outside the outages` : null,
  seen.refusedCallsAnswered < seen.refusedCalls
    ? `${seen.refusedCalls - seen.refusedCallsAnswered} refused calls never answered`
    : null,
  outages.some((outage) => !seen.refusals.some((refusal) => refusal.outage === outage))
    ? 'an outage refused no call (is the server on the bench Redis?)'
    : null,
  outages.length < restarts ? `Redis restarted ${outages.length} of ${restarts} times` : null,
  memory && Math.abs(memory.server.change) > 10
    ? `server memory changed ${memory.server.change.toFixed(1)}%`
    : null,
  memory && Math.abs(memory.workers.change) > 10
    ? `engine workers' memory changed ${memory.workers.change.toFixed(1)}%`
    : null,
  seen.acknowledged.size === 0 ? 'no feedback acknowledged' : null,
  lost.length > 0 ? `${lost.length} acknowledged events lost (e.g. ${lost[0]})` : null,
  twice.length > 0 ? `${twice.length} events recorded twice (e.g. ${twice[0][0]})` : null,
].filter(Boolean)
console.log(problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`)
process.exitCode = problems.length === 0 ? 0 : 1
