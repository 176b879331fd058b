/**
 * node --import=@poppinss/ts-exec bench/terminal_engine.ts \
 *   [--seconds=10] [--concurrency=1,4] [--galleries=1000,100000] [--port=3477]
 *
 * The recognition endpoints under load, over HTTP on loopback. For each
 * gallery size it makes a fresh SQLite database (tmp/bench_engine_<n>.sqlite3)
 * with an approved device (in legacy mode, pinned to 127.0.0.1, allowed to
 * enrol) and n - 1 people of one synthetic face each
 * (random unit vectors of the engine's default model, inserted straight into the
 * `faces` table before the server starts, so the server loads them as it
 * would a site's), starts the server (bin/server.ts) on it with the token
 * rate limits raised, enrols one real person through regFace and grants
 * them the device, then, for each number of concurrent clients, runs
 * them in a loop of token + call for `seconds`:
 *
 * - faceFeature: a one-face 640×480 JPEG (made from
 *   tests/fixtures/pairs/kit_harington_02.jpg), multipart; on the first
 *   gallery only, as it does not search;
 * - faceIdentify: a second photo of the enrolled person, multipart; the
 *   answer is "granted" after a 1:N search of the whole gallery.
 *
 * Latencies are of the endpoint's call alone; calls/s counts completed
 * token + call pairs. The first faceIdentify after the server starts loads
 * the gallery and is reported on its own. Needs Redis (REDIS_* as for the
 * server) and the models (node ace models:build); SQLite only.
 */
import { readFile, rm } from 'node:fs/promises'
import {
  migrate,
  residentMegabytes,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'
import { insertSyntheticPeople, SyntheticFaces } from './support/synthetic_faces.js'
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import sharp from 'sharp'
import { defaultEmbedder } from '#plugins/face_engine/embedder'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1,4' },
    galleries: { type: 'string', default: '1000,100000' },
    port: { type: 'string', default: '3477' },
  },
})
const seconds = Number(values.seconds)
const concurrencies = values.concurrency.split(',').map(Number)
const galleries = values.galleries.split(',').map(Number)
const origin = `http://127.0.0.1:${values.port}`
const device = { deviceName: 'Bench gate', sn: 'BENCH-ENGINE' }
const storageDir = 'tmp/bench_engine_storage'
/** The engine's default model and its feature size: the synthetic faces must be of it to be searched. */
const model = defaultEmbedder
const dimension = 512

type Row = Record<string, unknown>

async function call(endpoint: string, body: FormData | URLSearchParams) {
  const response = await fetch(`${origin}/faces/api/${endpoint}`, { method: 'POST', body })
  return (await response.json()) as Row & { code: number }
}

async function token() {
  const issued = await call('token', new URLSearchParams({ ...device }))
  if (issued.code !== 0) throw new Error(`no token: ${JSON.stringify(issued)}`)
  return String(issued.token)
}

function withImage(fields: Record<string, string>, image: Buffer) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) form.append(name, value)
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), 'photo.jpg')
  return form
}

function seed(dbFile: string, synthetic: number) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  sqlite
    .prepare(
      `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
         legacy_mode, pinned_address, permissions, config, created_at, updated_at)
       values (?, ?, 'approved', 'online', 'face', 0, 1, '127.0.0.1',
         '["recognition","database","feedback","enrolment"]',
         '{"enrolmentConsentVersion":"bench"}', ?, ?)`
    )
    .run(device.deviceName, device.sn, now, now)
  const faces = new SyntheticFaces(dimension)
  insertSyntheticPeople(sqlite, faces, { people: synthetic, facesPerPerson: 1, model }, now)
  sqlite.close()
}

function grant(dbFile: string, username: string) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const group = sqlite
    .prepare(`insert into access_groups (name, created_at, updated_at) values ('Bench', ?, ?)`)
    .run(now, now).lastInsertRowid
  sqlite
    .prepare(
      `insert into access_group_people (access_group_id, person_id)
       select ?, id from people where username = ?`
    )
    .run(group, username)
  sqlite
    .prepare(
      `insert into access_group_devices (access_group_id, device_id)
       select ?, id from devices where serial_number = ?`
    )
    .run(group, device.sn)
  sqlite.close()
}

async function measure(
  scenario: string,
  gallery: number,
  concurrency: number,
  run: () => Promise<{ code: number; elapsed: number }>
) {
  const latencies: number[] = []
  const codes = new Map<number, number>()
  const until = Date.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const { code, elapsed } = await run()
        latencies.push(elapsed)
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    })
  )
  latencies.sort((a, b) => a - b)
  const at = (share: number) => latencies[Math.floor(share * (latencies.length - 1))].toFixed(1)
  return {
    'scenario': scenario,
    'gallery': gallery.toLocaleString('en'),
    'clients': concurrency,
    'calls/s': (latencies.length / seconds).toFixed(1),
    'p50 ms': at(0.5),
    'p95 ms': at(0.95),
    'p99 ms': at(0.99),
    'codes': JSON.stringify(Object.fromEntries(codes)),
  }
}

function timed(endpoint: string, image: Buffer) {
  return async () => {
    const form = withImage({ token: await token() }, image)
    const started = performance.now()
    const answer = await call(endpoint, form)
    const elapsed = performance.now() - started
    if (endpoint === 'faceIdentify' && answer.code === 0 && answer.decision !== 'granted') {
      throw new Error(`the enrolled person was not granted: ${JSON.stringify(answer)}`)
    }
    return { code: answer.code, elapsed }
  }
}

const fixture = (name: string) => readFile(`tests/fixtures/pairs/${name}`)
const probe = await sharp(await fixture('kit_harington_02.jpg'))
  .resize(640, 480, { fit: 'contain', background: '#7f7f7f' })
  .jpeg({ quality: 90 })
  .toBuffer()
const enrolment = await fixture('kit_harington_01.jpg')

const rows = []
const notes = []
const loadBefore = loadavg()[0].toFixed(2)
for (const [index, size] of galleries.entries()) {
  const dbFile = `bench_engine_${size}.sqlite3`
  await rm(`tmp/${dbFile}`, { force: true })
  migrate(dbFile)
  const seeding = performance.now()
  seed(dbFile, size - 1)
  const seeded = ((performance.now() - seeding) / 1000).toFixed(1)
  const server = await startServer({
    port: values.port,
    dbFile,
    engine: 'engine',
    env: {
      STORAGE_DIR: storageDir,
      DEVICE_RATE_PER_DEVICE: '100000000',
      // Speed, not accuracy: at 1% the threshold for 100,000 faces (0.9997)
      // would leave the enrolled person unnamed and skip the decision.
      IDENTIFY_TARGET_FPIR: '0.2',
      DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
    },
  })
  try {
    const enrolled = await call(
      'regFace',
      new URLSearchParams({
        ...{ deviceName: device.deviceName, deviceSN: device.sn },
        username: 'kit.harington',
        faceName: 'Kit Harington',
        picBase64: enrolment.toString('base64'),
      })
    )
    if (enrolled.code !== 0) throw new Error(`regFace failed: ${JSON.stringify(enrolled)}`)
    grant(dbFile, 'kit.harington')

    const detected = await call('faceDetect', withImage({ token: await token() }, probe))
    if (detected.faces !== 1) throw new Error(`the probe shows ${detected.faces} faces`)
    const first = await timed('faceIdentify', probe)()
    notes.push(
      `gallery ${size}: seeded in ${seeded} s; the first faceIdentify (loading the gallery) took ${first.elapsed.toFixed(0)} ms`
    )

    for (const concurrency of concurrencies) {
      if (index === 0) {
        rows.push(await measure('faceFeature', size, concurrency, timed('faceFeature', probe)))
      }
      rows.push(await measure('faceIdentify', size, concurrency, timed('faceIdentify', probe)))
    }
    notes.push(`gallery ${size}: server resident memory ${await residentMegabytes(server.pid!)} MB`)
  } finally {
    await stopServer(server)
    await rm(`tmp/${dbFile}`, { force: true })
  }
}
await rm(storageDir, { recursive: true, force: true })

console.log(
  `${origin}, ${seconds} s per row; load average ${loadBefore} before, ${loadavg()[0].toFixed(2)} after, on ${availableParallelism()} cores`
)
console.table(rows)
for (const note of notes) console.log(note)
