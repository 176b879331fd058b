/**
 * node --import=@poppinss/ts-exec bench/terminal_protocol.ts \
 *   [--seconds=10] [--concurrency=1,16] [--people=1000] [--port=3478]
 *
 * What proving a device costs. Makes a fresh SQLite database
 * (tmp/bench_protocol.sqlite3) with `people` people of one face each in an
 * access group with two devices, approves them as an installer does
 * (`node ace device:approve BENCH-SIGNED`, which prints the credential,
 * and `node ace device:approve BENCH-LEGACY --legacy --address=127.0.0.1`),
 * starts the server on it with the rate limits raised, and for each
 * number of concurrent clients runs loops of:
 *
 * - token: a token request;
 * - token + getDbs: a token, then the device's face database with `since`
 *   its latest revision (the incremental sync a terminal repeats; the
 *   answer is small, so the cost of proving the device shows);
 *
 * each once as the signed device (the repository's terminal client signs
 * every call) and once as the legacy device (unsigned, pinned). Prints
 * calls per second and latency percentiles of the whole loop. Needs Redis
 * (REDIS_* as for the server); SQLite only.
 */
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import { FacesApiClient, type FacesApiAnswer } from '#terminal-client/faces_api_client'
import {
  ace,
  migrate,
  percentile,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1,16' },
    people: { type: 'string', default: '1000' },
    port: { type: 'string', default: '3478' },
  },
})
const seconds = Number(values.seconds)
const concurrencies = values.concurrency.split(',').map(Number)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_protocol.sqlite3'
const signed = { deviceName: 'Bench signed', serialNumber: 'BENCH-SIGNED' }
const legacy = { deviceName: 'Bench legacy', serialNumber: 'BENCH-LEGACY' }

function seed(people: number) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  sqlite.exec('begin')
  const device = sqlite.prepare(
    `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
       last_seen_address, created_at, updated_at)
     values (?, ?, 'pending', 'online', 'face', 0, '127.0.0.1', ?, ?)`
  )
  for (const { deviceName, serialNumber } of [signed, legacy]) {
    device.run(deviceName, serialNumber, now, now)
  }
  const group = sqlite
    .prepare(`insert into access_groups (name, created_at, updated_at) values ('Bench', ?, ?)`)
    .run(now, now).lastInsertRowid
  sqlite
    .prepare(
      `insert into access_group_devices (access_group_id, device_id) select ?, id from devices`
    )
    .run(group)
  const person = sqlite.prepare(
    `insert into people (username, display_name, status, revision, created_at, updated_at)
     values (?, ?, 'active', 1, ?, ?)`
  )
  const face = sqlite.prepare(
    `insert into faces (person_id, embedding, engine, model_id, dimension, source, created_at)
     values (?, ?, 'engine', 'faceapi-recognition', 128, 'api', ?)`
  )
  const member = sqlite.prepare(
    `insert into access_group_people (access_group_id, person_id) values (?, ?)`
  )
  for (let i = 0; i < people; i++) {
    const { lastInsertRowid } = person.run(`bench.${i}`, `Bench ${i}`, now, now)
    face.run(lastInsertRowid, randomBytes(512), now)
    member.run(group, lastInsertRowid)
  }
  sqlite.exec('commit')
  sqlite.close()
}

async function measure(scenario: string, concurrency: number, loop: () => Promise<FacesApiAnswer>) {
  const latencies: number[] = []
  const codes = new Map<number, number>()
  const until = Date.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const started = performance.now()
        const { code } = await loop()
        latencies.push(performance.now() - started)
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    })
  )
  latencies.sort((a, b) => a - b)
  return {
    'scenario': scenario,
    'clients': concurrency,
    'loops/s': Math.round(latencies.length / seconds),
    'p50 ms': percentile(latencies, 0.5),
    'p99 ms': percentile(latencies, 0.99),
    'codes': JSON.stringify(Object.fromEntries(codes)),
  }
}

await rm(`tmp/${dbFile}`, { force: true })
migrate(dbFile)
seed(Number(values.people))
const approval = ace(dbFile, ['device:approve', signed.serialNumber])
const secret = /^(fa1_\S+)$/m.exec(approval)?.[1]
if (!secret) throw new Error(`device:approve printed no credential:\n${approval}`)
ace(dbFile, ['device:approve', legacy.serialNumber, '--legacy', '--address=127.0.0.1'])

const server = await startServer({
  port: values.port,
  dbFile,
  env: { DEVICE_RATE_PER_DEVICE: '100000000', DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000' },
})
const rows = []
try {
  const terminals = {
    signed: new FacesApiClient(origin, { ...signed, secret }),
    legacy: new FacesApiClient(origin, legacy),
  }
  const [signedDbs, legacyDbs] = [await terminals.signed.getDbs(), await terminals.legacy.getDbs()]
  const revisions = { signed: Number(signedDbs.revision), legacy: Number(legacyDbs.revision) }
  for (const concurrency of concurrencies) {
    for (const kind of ['signed', 'legacy'] as const) {
      const terminal = terminals[kind]
      rows.push(
        await measure(`token, ${kind}`, concurrency, () => terminal.call('token')),
        await measure(`token + getDbs, ${kind}`, concurrency, () =>
          terminal.getDbs(revisions[kind])
        )
      )
    }
  }
} finally {
  await stopServer(server)
}

console.log(
  `${origin}: ${values.people} people, ${seconds} s per row, ${availableParallelism()} CPUs shared with the load generator (load ${loadavg()[0].toFixed(2)})`
)
console.table(rows)
