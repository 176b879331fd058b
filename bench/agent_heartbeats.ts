/**
 * node --import=@poppinss/ts-exec bench/agent_heartbeats.ts \
 *   [--devices=65536] [--rounds=2] [--width=64] [--port=3478]
 *
 * What terminal agents' heartbeats cost the server at the protocol's
 * 65,536 devices. Makes a fresh SQLite database (tmp/bench_heartbeats.sqlite3)
 * with `devices` approved devices, starts the server on it, and has every
 * device send one signed heartbeat per round (`width` at a time over
 * keep-alive connections). Prints, per round, the heartbeats a second,
 * their latency (p50, p99), how long after the round's last heartbeat the
 * database held every device's state (the batched write that follows the
 * Redis hash), and the server's resident memory. Needs Redis (REDIS_* as
 * for the server); SQLite only.
 *
 * The devices share one credential (approved once with `node ace
 * device:approve`, its sealed secret copied to the others); each still
 * signs its own calls with its serial number and a nonce of its own.
 */
import { Agent, request } from 'node:http'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import { encodeBody, signCall } from '#terminal-client/faces_api_client'
import {
  approvedDevice,
  migrate,
  percentile,
  residentMegabytes,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '65536' },
    rounds: { type: 'string', default: '2' },
    width: { type: 'string', default: '64' },
    port: { type: 'string', default: '3478' },
  },
})
const count = Number(values.devices)
const rounds = Number(values.rounds)
const width = Number(values.width)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_heartbeats.sqlite3'
const flushSeconds = 5

type Terminal = { deviceName: string; serialNumber: string; secret: string }

const agent = new Agent({ keepAlive: true, maxSockets: width })

function seed(): Terminal[] {
  const first = { deviceName: 'Agent 00000', serialNumber: 'AGENT-00000' }
  const printed = approvedDevice(dbFile, first)
  const secret = /(fa1_[A-Za-z0-9_-]+)/.exec(printed)?.[1]
  if (!secret) throw new Error(`no credential in: ${printed}`)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const sealed = sqlite
    .prepare('select credential_secret from devices where serial_number = ?')
    .get(first.serialNumber) as { credential_secret: string }
  sqlite.exec('begin')
  const insert = sqlite.prepare(
    `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
       credential_secret, credential_issued_at, created_at, updated_at)
     values (?, ?, 'approved', 'online', 'face', 0, ?, ?, ?, ?)`
  )
  const list: Terminal[] = [{ ...first, secret }]
  for (let i = 1; i < count; i++) {
    const deviceName = `Agent ${String(i).padStart(5, '0')}`
    const serialNumber = `AGENT-${String(i).padStart(5, '0')}`
    insert.run(deviceName, serialNumber, sealed.credential_secret, now, now, now)
    list.push({ deviceName, serialNumber, secret })
  }
  sqlite.exec('commit')
  sqlite.close()
  return list
}

function heartbeat(terminal: Terminal, round: number) {
  const path = '/faces/api/heartbeat'
  const state = {
    mode: 'online',
    backlog: round,
    oldestUnsentAgeMs: null,
    revision: round,
    camera: { state: 'ok' },
    gate: { state: 'ok' },
    reader: { state: 'absent' },
    light: { state: 'ok' },
    commandsDone: [],
    version: 'bench',
  }
  const { body, contentType } = encodeBody(
    {
      deviceName: terminal.deviceName,
      deviceSN: terminal.serialNumber,
      state: JSON.stringify(state),
    },
    'json'
  )
  const headers = signCall(terminal, { method: 'POST', path, body })
  return new Promise<number>((resolve, reject) => {
    const call = request(
      `${origin}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': contentType,
          'content-length': String(body.length),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString()) as { code: number }
          if (answer.code !== 0) reject(new Error(`heartbeat: ${JSON.stringify(answer)}`))
          else resolve(0)
        })
      }
    )
    call.on('error', reject)
    call.end(body)
  })
}

/** Devices whose stored heartbeat is of `round` (its backlog field says so). */
function stored(round: number) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  try {
    const row = sqlite
      .prepare(
        `select count(*) as total from device_heartbeats where json_extract(state, '$.revision') = ?`
      )
      .get(round) as { total: number }
    return Number(row.total)
  } finally {
    sqlite.close()
  }
}

await rm(`tmp/${dbFile}`, { force: true })
migrate(dbFile)
const terminals = seed()
const server = await startServer({
  port: values.port,
  dbFile,
  env: {
    DEVICE_RATE_PER_DEVICE: '1000000',
    DEVICE_PRESENCE_FLUSH_SECONDS: String(flushSeconds),
  },
})
const rows: string[][] = []
try {
  const idle = await residentMegabytes(server.pid!)
  for (let round = 1; round <= rounds; round++) {
    const latencies: number[] = []
    let next = 0
    const started = performance.now()
    const lane = async () => {
      while (next < terminals.length) {
        const terminal = terminals[next++]
        const sent = performance.now()
        await heartbeat(terminal, round)
        latencies.push(performance.now() - sent)
      }
    }
    await Promise.all(Array.from({ length: width }, lane))
    const finished = performance.now()
    const seconds = (finished - started) / 1000
    const rss = await residentMegabytes(server.pid!)
    while (stored(round) < terminals.length) await new Promise((r) => setTimeout(r, 100))
    const written = (performance.now() - finished) / 1000
    latencies.sort((a, b) => a - b)
    rows.push([
      String(round),
      String(terminals.length),
      (terminals.length / seconds).toFixed(0),
      percentile(latencies, 0.5),
      percentile(latencies, 0.99),
      written.toFixed(1),
      String(idle),
      String(rss),
    ])
  }
} finally {
  agent.destroy()
  await stopServer(server)
}

const header = [
  'round',
  'heartbeats',
  'per second',
  'p50 ms',
  'p99 ms',
  `all in DB after (s; flush every ${flushSeconds} s)`,
  'server RSS idle MB',
  'RSS after round MB',
]
console.log(`| ${header.join(' | ')} |`)
console.log(`|${header.map(() => '---').join('|')}|`)
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
