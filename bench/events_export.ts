/**
 * node --import=@poppinss/ts-exec bench/events_export.ts [--events=1000000] [--port=3482] [--keep]
 *
 * The events page's CSV export (/admin/events.csv) over a large log: makes
 * a fresh SQLite database (tmp/bench_events_export.sqlite3) holding
 * `events` access events over the last year at 20 devices, by 5,000
 * people and strangers, starts the server on it, signs in as an
 * administrator and downloads the export twice: every event, then one
 * device over the last 30 days. The server's resident memory (VmRSS) is
 * sampled every 20 ms.
 *
 * Prints, per export, the rows and bytes received, the time to the first
 * byte and to the last, the rate, and the server's resident memory before
 * and at its peak. Needs Redis (REDIS_* as for the server); SQLite only.
 * The database is removed afterwards unless `--keep`.
 */
import { rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { ace, migrate, residentMegabytes, startServer, stopServer } from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    port: { type: 'string', default: '3482' },
    keep: { type: 'boolean', default: false },
  },
})
const eventCount = Number(values.events)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_events_export.sqlite3'
const email = 'bench-export@example.com'
const password = 'bench export password'
const devices = 20
const people = 5000

/** "yyyy-MM-dd HH:mm:ss" in the server's zone, as the app's SQLite columns hold times. */
function sqliteTime(date: Date) {
  const pad = (value: number) => String(value).padStart(2, '0')
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  )
}

function fill() {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteTime(new Date())
  sqlite.exec('begin')
  const device = sqlite.prepare(
    `insert into devices (name, serial_number, status, mode, required_factors, sync_revision, config, created_at, updated_at)
     values (?, ?, 'approved', 'online', 'face', 0, '{}', ?, ?)`
  )
  for (let index = 1; index <= devices; index++) {
    device.run(`Door ${index}`, `BENCH-DOOR-${index}`, now, now)
  }
  const person = sqlite.prepare(
    `insert into people (username, display_name, department, status, revision, created_at, updated_at)
     values (?, ?, 'Bench', 'active', 0, ?, ?)`
  )
  for (let index = 1; index <= people; index++) {
    person.run(`bench${index}`, `Bench Person ${index}`, now, now)
  }
  const event = sqlite.prepare(
    `insert into access_events (device_id, person_id, reported_name, score, decision, reason, method, occurred_at, received_at)
     values (?, ?, ?, ?, ?, ?, 'face', ?, ?)`
  )
  const yearMs = 365 * 24 * 3600 * 1000
  const start = Date.now() - yearMs
  for (let index = 0; index < eventCount; index++) {
    const known = index % 10 !== 0
    const time = sqliteTime(new Date(start + Math.floor((index / eventCount) * yearMs)))
    event.run(
      (index % devices) + 1,
      known ? (index % people) + 1 : null,
      known ? null : '=stranger',
      known ? 0.6 + (index % 40) / 100 : 0.2,
      known ? 'granted' : 'denied',
      known ? 'granted' : 'unknown_face',
      time,
      time
    )
  }
  sqlite.exec('commit')
  sqlite.close()
}

/** Signs in through the form and returns the session's cookies. */
async function signIn() {
  const jar = new Map<string, string>()
  const keep = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]
      jar.set(pair.slice(0, pair.indexOf('=')), pair)
    }
  }
  const cookies = () => [...jar.values()].join('; ')
  const form = await fetch(`${origin}/login`)
  keep(form)
  const html = await form.text()
  const csrf = html.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)![1]
  const response = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': cookies() },
    body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
  })
  keep(response)
  if (response.status !== 302 || response.headers.get('location') === '/login') {
    throw new Error(`sign-in failed (${response.status})`)
  }
  return cookies()
}

/** Downloads one export, counting lines and bytes, while sampling the server's memory. */
async function download(pid: number, cookie: string, query: string) {
  const before = await residentMegabytes(pid)
  let peak = before
  const sampler = setInterval(async () => {
    peak = Math.max(peak, await residentMegabytes(pid))
  }, 20)
  const started = performance.now()
  const response = await fetch(`${origin}/admin/events.csv${query}`, { headers: { cookie } })
  if (response.status !== 200) throw new Error(`export answered ${response.status}`)
  let firstByte = 0
  let bytes = 0
  let lines = 0
  for await (const chunk of response.body!) {
    if (!firstByte) firstByte = performance.now() - started
    bytes += chunk.length
    for (const byte of chunk) if (byte === 10) lines++
  }
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  peak = Math.max(peak, await residentMegabytes(pid))
  return { rows: lines - 1, bytes, firstByte, seconds, before, peak }
}

await rm(`tmp/${dbFile}`, { force: true })
migrate(dbFile)
const filling = performance.now()
fill()
console.log(
  `${eventCount} events written in ${((performance.now() - filling) / 1000).toFixed(1)} s`
)
ace(dbFile, ['operator:create', email, '--role=admin', `--password=${password}`])

const server = await startServer({
  port: values.port,
  dbFile,
  env: { SESSION_DRIVER: 'memory', LIMITER_STORE: 'memory', APP_URL: origin },
})
try {
  const cookie = await signIn()
  const from = new Date(Date.now() - 30 * 24 * 3600 * 1000).toISOString().slice(0, 16)
  const runs = [
    { name: 'every event', query: '' },
    { name: 'Door 7, last 30 days', query: `?device=Door%207&from=${from}` },
  ]
  console.log(
    '\n| export | rows | MB | first byte (ms) | total (s) | rows/s | RSS before (MB) | RSS peak (MB) |'
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const run of runs) {
    const result = await download(server.pid!, cookie, run.query)
    console.log(
      `| ${run.name} | ${result.rows} | ${(result.bytes / 1e6).toFixed(1)} | ${result.firstByte.toFixed(0)} | ${result.seconds.toFixed(1)} | ${Math.round(result.rows / result.seconds)} | ${result.before} | ${result.peak} |`
    )
  }
} finally {
  await stopServer(server)
  if (!values.keep) {
    for (const suffix of ['', '-wal', '-shm']) await rm(`tmp/${dbFile}${suffix}`, { force: true })
  }
}
