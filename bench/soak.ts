/**
 * node --import=@poppinss/ts-exec bench/soak.ts \
 *   [--calls=10000] [--clients=4] [--people=6] [--port=3479]
 *
 * The recognition endpoints under a long, mixed load, to show that the
 * engine never stalls and never restarts. Makes a fresh SQLite database
 * (tmp/bench_soak.sqlite3) with one legacy device pinned to 127.0.0.1
 * (inserted as pending, then approved as an installer does with
 * `node ace device:approve BENCH-SOAK --legacy …`), starts the server on
 * it, enrols `people` people through regFace, then runs `clients`
 * concurrent terminals for `calls` calls in all, each a token and then a
 * faceFeature or faceIdentify (one in two) of a photo drawn from
 * tests/fixtures/pairs, as sent or resized to one of the sizes that used
 * to stall the engine (1536×1152, 2000×1125, 1152×1536, 250×250).
 *
 * Prints the answers by code, latency percentiles of the endpoint call
 * alone, engine restarts and replaced workers (from /health, polled every
 * half second), and the peak resident memory of the server and of its
 * engine workers. The goal: no answer 3 or 9007, no restart, p99 within
 * three times p50. Needs Redis (REDIS_* as for the server) and the models
 * (node ace models:build); SQLite only.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import {
  approvedDevice,
  healthHeaders,
  legacyEverything,
  migrate,
  percentile,
  residentMegabytes,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '4' },
    people: { type: 'string', default: '6' },
    port: { type: 'string', default: '3479' },
  },
})
const totalCalls = Number(values.calls)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_soak.sqlite3'
const storageDir = 'tmp/bench_soak_storage'
const device = { deviceName: 'Bench soak', serialNumber: 'BENCH-SOAK' }
/** Enrolled through regFace; every other photo of theirs is a probe too. */
const enrolments = [
  'barack_obama_01.jpg',
  'joe_biden_01.jpg',
  'kit_harington_01.jpg',
  'rose_leslie_01.jpg',
  'jim_parsons_sheldon1.png',
  'kaley_cuoco_penny1.png',
  'kunal_nayyar_raj1.png',
  'mayim_bialik_amy1.png',
]
const awkwardSizes = [
  [1536, 1152],
  [2000, 1125],
  [1152, 1536],
  [250, 250],
]

type Photo = { name: string; bytes: Uint8Array }

/** Every photo of tests/fixtures/pairs, and the first few again at each awkward size. */
async function photos(): Promise<Photo[]> {
  const folder = 'tests/fixtures/pairs'
  const files = await readdir(folder)
  const names = files.filter((name) => /\.(jpe?g|png)$/.test(name)).sort()
  const originals = await Promise.all(
    names.map(async (name) => ({ name, bytes: await readFile(`${folder}/${name}`) }))
  )
  const resized = await Promise.all(
    originals.slice(0, 12).flatMap(({ name, bytes }) =>
      awkwardSizes.map(async ([width, height]) => ({
        name: `${name} at ${width}×${height}`,
        bytes: await sharp(bytes)
          .resize(width, height, { fit: 'contain', background: '#7f7f7f' })
          .jpeg({ quality: 90 })
          .toBuffer(),
      }))
    )
  )
  return [...originals, ...resized]
}

type Health = {
  checks: {
    meta?: {
      instances?: {
        id: string
        state: string
        since: string
        lastHealth?: { message: string | null }
      }[]
    }
  }[]
}

/**
 * Polls /health for the engine instance: every new `since` on a running
 * instance after the first is one restart; the last health message says
 * how many workers were replaced. Polls the memory of the server and of
 * its children (the engine workers) at the same time.
 */
function watch(serverPid: number) {
  const seen = { restarts: 0, notRunning: 0, replaced: '0', serverMb: 0, workersMb: 0 }
  let since: string | null = null
  const poll = async () => {
    const health = await fetch(`${origin}/health`, { headers: healthHeaders }).then(
      (response) => response.json() as Promise<Health>,
      () => null
    )
    const engine = health?.checks
      .flatMap((check) => check.meta?.instances ?? [])
      .find((instance) => instance.id === 'engine')
    if (engine?.state !== 'running') seen.notRunning++
    else if (since !== engine.since) {
      if (since !== null) seen.restarts++
      since = engine.since
    }
    seen.replaced = /(\d+) replaced/.exec(engine?.lastHealth?.message ?? '')?.[1] ?? seen.replaced
    seen.serverMb = Math.max(seen.serverMb, await residentMegabytes(serverPid))
    const workers = await childrenOf(serverPid)
    const workersMb = await Promise.all(workers.map((pid) => residentMegabytes(pid).catch(() => 0)))
    seen.workersMb = Math.max(
      seen.workersMb,
      workersMb.reduce((sum, mb) => sum + mb, 0)
    )
  }
  const timer = setInterval(() => void poll().catch(() => {}), 500)
  return {
    seen,
    async stop() {
      clearInterval(timer)
      await poll()
    },
  }
}

async function childrenOf(pid: number) {
  const tasks = await readdir(`/proc/${pid}/task`)
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => ''))
  )
  return lists.flatMap((list) => list.split(/\s+/).filter(Boolean).map(Number))
}

/** A small deterministic generator, so that every run draws the same calls. */
function generator(seed: number) {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

await rm(`tmp/${dbFile}`, { force: true })
await rm(storageDir, { recursive: true, force: true })
migrate(dbFile)
approvedDevice(dbFile, device, legacyEverything)
const pictures = await photos()

const server = await startServer({
  port: values.port,
  dbFile,
  engine: 'engine',
  env: {
    STORAGE_DIR: storageDir,
    DEVICE_RATE_PER_DEVICE: '100000000',
    DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
  },
})
const watcher = watch(server.pid!)
const endpoints = ['faceFeature', 'faceIdentify'] as const
const latencies = { faceFeature: [] as number[], faceIdentify: [] as number[] }
const codes = { faceFeature: new Map<number, number>(), faceIdentify: new Map<number, number>() }
const failures = new Map<string, string>()
let elapsed = 0
try {
  const terminal = new FacesApiClient(origin, device)
  for (const name of enrolments.slice(0, Number(values.people))) {
    const username = name.replace(/_?\d*\.\w+$/, '').replaceAll('_', '.')
    const photo = await readFile(`tests/fixtures/pairs/${name}`)
    const answer = await terminal.regFace({ username, faceName: username, photo })
    if (answer.code !== 0) throw new Error(`regFace of ${name}: ${JSON.stringify(answer)}`)
  }

  let issued = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: Number(values.clients) }, async (_, client) => {
      const random = generator(client + 1)
      while (issued < totalCalls) {
        issued++
        const endpoint = endpoints[Math.floor(random() * endpoints.length)]
        const picture = pictures[Math.floor(random() * pictures.length)]
        const token = await terminal.token()
        const callStarted = performance.now()
        const answer = await terminal.call(
          endpoint,
          { token },
          { files: { image: { data: picture.bytes } } }
        )
        latencies[endpoint].push(performance.now() - callStarted)
        codes[endpoint].set(answer.code, (codes[endpoint].get(answer.code) ?? 0) + 1)
        if (answer.code !== 0) {
          failures.set(`${endpoint} ${answer.code}`, `${picture.name}: ${answer.message}`)
        }
      }
    })
  )
  elapsed = (performance.now() - startedAt) / 1000
} finally {
  await watcher.stop()
  await stopServer(server)
  await rm(storageDir, { recursive: true, force: true })
}

function row(sample: number[], answers: Map<number, number>[]) {
  const sorted = [...sample].sort((a, b) => a - b)
  const byCode: Record<number, number> = {}
  for (const [code, count] of answers.flatMap((map) => [...map])) {
    byCode[code] = (byCode[code] ?? 0) + count
  }
  return {
    'calls': sample.length,
    'answers by code': JSON.stringify(byCode),
    'p50 ms': percentile(sorted, 0.5),
    'p95 ms': percentile(sorted, 0.95),
    'p99 ms': percentile(sorted, 0.99),
    'max ms': percentile(sorted, 1),
  }
}
const rows = {
  faceFeature: row(latencies.faceFeature, [codes.faceFeature]),
  faceIdentify: row(latencies.faceIdentify, [codes.faceIdentify]),
  all: row([...latencies.faceFeature, ...latencies.faceIdentify], Object.values(codes)),
}

console.log(
  `${origin}: ${rows.all.calls} calls from ${values.clients} clients in ${elapsed.toFixed(0)} s ` +
    `(${(rows.all.calls / elapsed).toFixed(1)} calls/s), ${pictures.length} pictures, ` +
    `${values.people} people enrolled; ${availableParallelism()} CPUs shared with the load ` +
    `generator (load ${loadavg()[0].toFixed(2)})`
)
console.table(rows)
console.table({
  'engine restarts': watcher.seen.restarts,
  'polls that found the engine not running': watcher.seen.notRunning,
  'workers replaced (at the last health check)': watcher.seen.replaced,
  'server peak RSS MB': watcher.seen.serverMb,
  'engine workers peak RSS MB': watcher.seen.workersMb,
})
for (const [key, example] of failures) console.log(`${key}, e.g. ${example}`)

const refused = Object.values(codes).reduce(
  (sum, answers) => sum + (answers.get(3) ?? 0) + (answers.get(9007) ?? 0),
  0
)
const [p50, p99] = [Number(rows.all['p50 ms']), Number(rows.all['p99 ms'])]
const problems = [
  refused > 0 ? `${refused} answers 3 or 9007` : null,
  watcher.seen.restarts > 0 || watcher.seen.notRunning > 0 ? 'the engine restarted' : null,
  p99 > 3 * p50 ? `p99 ${p99} ms is more than three times p50 ${p50} ms` : null,
].filter(Boolean)
console.log(problems.length === 0 ? 'soak passed' : `soak failed: ${problems.join('; ')}`)
process.exitCode = problems.length === 0 ? 0 : 1
