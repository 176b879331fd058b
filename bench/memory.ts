/**
 * node --import=@poppinss/ts-exec bench/memory.ts \
 *   [--concurrency=32] [--rounds=2] [--port=3481] [--budget=PIXELS]
 *
 * The server's memory under the heaviest pictures terminals may send:
 * `concurrency` simultaneous faceFeature and faceIdentify calls (half
 * each), first with a 6300×6300 PNG (39.7 megapixels, just under the
 * 40-megapixel limit, mostly flat so that it is small on the wire), then
 * with 12-megapixel JPEGs (4000×3000), `rounds` times each. The pictures
 * are made with sharp in tmp/bench_memory. Makes a fresh SQLite database
 * (tmp/bench_memory.sqlite3) with one legacy device pinned to 127.0.0.1,
 * starts the server on it with the engine, and samples the resident memory
 * (VmRSS) of the server and of its engine workers every 50 ms.
 *
 * Prints, per picture, the answers by code, the peak resident memory of
 * the server, of the workers and of both together, and the time the
 * burst took. `--budget` sets IMAGE_DECODE_BUDGET_PIXELS for the server
 * (a huge value turns the decode budget off, for a comparison). Needs
 * Redis (REDIS_* as for the server) and the models (node ace
 * models:build); SQLite only.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import {
  approvedDevice,
  legacyEverything,
  migrate,
  residentMegabytes,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    port: { type: 'string', default: '3481' },
    budget: { type: 'string' },
  },
})
const concurrency = Number(values.concurrency)
const rounds = Number(values.rounds)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_memory.sqlite3'
const storageDir = 'tmp/bench_memory_storage'
const picturesDir = 'tmp/bench_memory'
const device = { deviceName: 'Bench memory', serialNumber: 'BENCH-MEMORY' }

type Picture = { name: string; bytes: Uint8Array }

/**
 * A 6300×6300 PNG, grey but for a 600-pixel face in the middle: a few
 * hundred kilobytes that decode to 119 MB of RGB. And four 12-megapixel
 * JPEGs, each a face photo enlarged to fill 4000×3000.
 */
async function pictures(): Promise<{ png: Picture[]; jpeg: Picture[] }> {
  await mkdir(picturesDir, { recursive: true })
  const faces = [
    'barack_obama_01.jpg',
    'joe_biden_01.jpg',
    'kit_harington_01.jpg',
    'rose_leslie_01.jpg',
  ]
  const sources = await Promise.all(faces.map((name) => readFile(`tests/fixtures/pairs/${name}`)))
  const face = await sharp(sources[0]).resize(600, 600, { fit: 'cover' }).toBuffer()
  const png = await sharp({
    create: { width: 6300, height: 6300, channels: 3, background: '#808080' },
  })
    .composite([{ input: face, left: 2850, top: 2850 }])
    .png({ compressionLevel: 9 })
    .toBuffer()
  const jpeg = await Promise.all(
    sources.map((bytes) =>
      sharp(bytes).resize(4000, 3000, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer()
    )
  )
  return {
    png: [{ name: 'PNG 6300×6300', bytes: png }],
    jpeg: jpeg.map((bytes, index) => ({ name: `JPEG 4000×3000 (${faces[index]})`, bytes })),
  }
}

async function childrenOf(pid: number) {
  const tasks = await readdir(`/proc/${pid}/task`)
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => ''))
  )
  return lists.flatMap((list) => list.split(/\s+/).filter(Boolean).map(Number))
}

/** Resident memory of the server and its engine workers, sampled until stopped. */
function sampler(serverPid: number) {
  const peak = { server: 0, workers: 0, total: 0 }
  const sample = async () => {
    const server = await residentMegabytes(serverPid)
    const workerPids = await childrenOf(serverPid)
    const each = await Promise.all(workerPids.map((pid) => residentMegabytes(pid).catch(() => 0)))
    const workers = each.reduce((sum, mb) => sum + mb, 0)
    peak.server = Math.max(peak.server, server)
    peak.workers = Math.max(peak.workers, workers)
    peak.total = Math.max(peak.total, server + workers)
    return { server, workers, total: server + workers }
  }
  let timer: NodeJS.Timeout | undefined
  return {
    peak,
    sample,
    start() {
      peak.server = peak.workers = peak.total = 0
      timer = setInterval(() => void sample().catch(() => {}), 50)
    },
    async stop() {
      clearInterval(timer)
      await sample()
      return { ...peak }
    },
  }
}

await rm(`tmp/${dbFile}`, { force: true })
await rm(storageDir, { recursive: true, force: true })
migrate(dbFile)
approvedDevice(dbFile, device, legacyEverything)
const { png, jpeg } = await pictures()

const server = await startServer({
  port: values.port,
  dbFile,
  engine: 'engine',
  env: {
    STORAGE_DIR: storageDir,
    DEVICE_RATE_PER_DEVICE: '100000000',
    DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
    ...(values.budget ? { IMAGE_DECODE_BUDGET_PIXELS: values.budget } : {}),
  },
})
const memory = sampler(server.pid!)
const terminal = new FacesApiClient(origin, device)
const rows: Record<string, Record<string, string | number>> = {}
let idle = { server: 0, workers: 0, total: 0 }
try {
  // One call of each kind first, so that lazily loaded models count as idle memory.
  for (const endpoint of ['faceFeature', 'faceIdentify']) {
    await terminal.callWithToken(endpoint, {}, { files: { image: { data: jpeg[0].bytes } } })
  }
  idle = await memory.sample()

  for (const [label, set] of [
    ['PNG 6300×6300', png],
    ['JPEG 12 MP', jpeg],
  ] as const) {
    const codes = new Map<number, number>()
    const examples = new Map<number, string>()
    memory.start()
    const started = performance.now()
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        Array.from({ length: concurrency }, async (_, index) => {
          const endpoint = index % 2 === 0 ? 'faceFeature' : 'faceIdentify'
          const picture = set[index % set.length]
          const token = await terminal.token()
          const answer = await terminal.call(
            endpoint,
            { token },
            { files: { image: { data: picture.bytes, filename: 'picture' } } }
          )
          codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1)
          if (!examples.has(answer.code)) examples.set(answer.code, answer.message)
        })
      )
    }
    const seconds = (performance.now() - started) / 1000
    const peak = await memory.stop()
    rows[label] = {
      'calls': concurrency * rounds,
      'bytes each': set.map((picture) => picture.bytes.length).join('/'),
      'answers by code': JSON.stringify(Object.fromEntries([...codes].sort())),
      'seconds': seconds.toFixed(1),
      'server peak MB': peak.server,
      'workers peak MB': peak.workers,
      'total peak MB': peak.total,
    }
    for (const [code, message] of examples)
      if (code !== 0) console.log(`${label}, ${code}: ${message}`)
  }
} finally {
  await stopServer(server)
  await rm(storageDir, { recursive: true, force: true })
  await rm(picturesDir, { recursive: true, force: true })
  for (const suffix of ['', '-wal', '-shm']) await rm(`tmp/${dbFile}${suffix}`, { force: true })
}

console.log(
  `${origin}: ${concurrency} concurrent calls (faceFeature and faceIdentify), ${rounds} rounds per picture; ` +
    `decode budget ${values.budget ?? 'default'}`
)
console.table({
  idle: {
    'server peak MB': idle.server,
    'workers peak MB': idle.workers,
    'total peak MB': idle.total,
  },
  ...rows,
})
