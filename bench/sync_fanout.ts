/**
 * node --import=@poppinss/ts-exec bench/sync_fanout.ts \
 *   [--terminals=10000] [--port=3479] [--rounds=3]
 *
 * How fast one change reaches every terminal waiting in syncEvents, and
 * what the waits cost the server. Makes a fresh SQLite database
 * (tmp/bench_sync.sqlite3) with one person (one face) in an access group
 * with `terminals` approved devices, starts the server on it (its job
 * worker in the process, as by default), and has every terminal, each over
 * its own HTTP connection, ask for a token and then wait in syncEvents,
 * signed with its credential. Once every wait is registered (each has
 * recorded its acknowledgement), an operator suspends or reinstates the
 * person on the People page; the time from that POST until the last
 * terminal has its answer is the fan-out time (the POST's own time is
 * shown beside it). Then every terminal waits again for the next
 * round. Prints a table with the fan-out times and the server's resident
 * memory with all of them waiting and once all are answered, and its
 * memory before the terminals came. Needs Redis (REDIS_* as for the server); SQLite only.
 *
 * The devices share one credential (approved once with `node ace
 * device:approve`, its sealed secret copied to the others); each still
 * signs its own calls with its serial number and a nonce of its own.
 */
import { randomBytes } from 'node:crypto'
import { request, Agent } from 'node:http'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import { encodeBody, signCall } from '#terminal-client/faces_api_client'
import {
  ace,
  approvedDevice,
  migrate,
  residentMegabytes,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    terminals: { type: 'string', default: '10000' },
    port: { type: 'string', default: '3479' },
    rounds: { type: 'string', default: '3' },
  },
})
const terminals = Number(values.terminals)
const rounds = Number(values.rounds)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_sync.sqlite3'
const operator = { email: 'bench-sync@example.com', password: 'correct horse battery staple' }

type Terminal = { deviceName: string; serialNumber: string; secret: string }
type Answer = { code: number; changed?: boolean; token?: string; revision?: number }

/** Every call on a connection of its own, however many are open at once. */
const agent = new Agent({ keepAlive: false, maxSockets: Infinity })

function seed(): { terminals: Terminal[]; personId: number } {
  const first = { deviceName: 'Bench 00000', serialNumber: 'BENCH-00000' }
  const printed = approvedDevice(dbFile, first)
  const secret = /(fa1_[A-Za-z0-9_-]+)/.exec(printed)?.[1]
  if (!secret) throw new Error(`no credential in: ${printed}`)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const sealed = sqlite
    .prepare('select credential_secret from devices where serial_number = ?')
    .get(first.serialNumber) as { credential_secret: string }
  sqlite.exec('begin')
  const device = sqlite.prepare(
    `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
       credential_secret, credential_issued_at, created_at, updated_at)
     values (?, ?, 'approved', 'online', 'face', 0, ?, ?, ?, ?)`
  )
  const list: Terminal[] = [{ ...first, secret }]
  for (let i = 1; i < terminals; i++) {
    const name = `Bench ${String(i).padStart(5, '0')}`
    const serialNumber = `BENCH-${String(i).padStart(5, '0')}`
    device.run(name, serialNumber, sealed.credential_secret, now, now, now)
    list.push({ deviceName: name, serialNumber, secret })
  }
  const group = sqlite
    .prepare(`insert into access_groups (name, created_at, updated_at) values ('Bench', ?, ?)`)
    .run(now, now).lastInsertRowid
  sqlite
    .prepare(
      `insert into access_group_devices (access_group_id, device_id) select ?, id from devices`
    )
    .run(group)
  const personId = Number(
    sqlite
      .prepare(
        `insert into people (username, display_name, status, revision, created_at, updated_at)
         values ('bench.person', 'Bench Person', 'active', 0, ?, ?)`
      )
      .run(now, now).lastInsertRowid
  )
  sqlite
    .prepare(
      `insert into faces (person_id, embedding, engine, model_id, dimension, source, created_at)
       values (?, ?, 'engine', 'faceapi-recognition', 128, 'api', ?)`
    )
    .run(personId, randomBytes(512), now)
  sqlite
    .prepare(`insert into access_group_people (access_group_id, person_id) values (?, ?)`)
    .run(group, personId)
  sqlite.exec('commit')
  sqlite.close()
  return { terminals: list, personId }
}

function post(path: string, body: Buffer, headers: Record<string, string>) {
  return new Promise<Answer>((resolve, reject) => {
    const call = request(
      `${origin}${path}`,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()) as Answer)
          } catch (error) {
            reject(error)
          }
        })
      }
    )
    call.on('error', reject)
    call.end(body)
  })
}

function terminalCall(terminal: Terminal, endpoint: string, fields: Record<string, unknown>) {
  const path = `/faces/api/${endpoint}`
  const { body, contentType } = encodeBody(fields as Record<string, string | number>, 'json')
  const headers = signCall(terminal, { method: 'POST', path, body })
  return post(path, body, { 'content-type': contentType, ...headers })
}

/**
 * A token, then syncEvents: resolves once the wait is under way, with the
 * answer to come.
 */
async function subscribe(terminal: Terminal, revision: number) {
  const tokenAnswer = await terminalCall(terminal, 'token', {
    deviceName: terminal.deviceName,
    sn: terminal.serialNumber,
  })
  if (tokenAnswer.code !== 0) throw new Error(`token: ${JSON.stringify(tokenAnswer)}`)
  const answer = terminalCall(terminal, 'syncEvents', {
    deviceName: terminal.deviceName,
    deviceSN: terminal.serialNumber,
    token: tokenAnswer.token,
    revision,
  })
  return { answer }
}

/** Subscribes every terminal, `width` token requests at a time. */
async function subscribeAll(list: Terminal[], width: number, revision: number) {
  const answers: Promise<Answer>[] = []
  let next = 0
  const lane = async () => {
    while (next < list.length) {
      const at = next++
      const { answer } = await subscribe(list[at], revision)
      answers[at] = answer
    }
  }
  await Promise.all(Array.from({ length: width }, lane))
  return answers
}

/** How many devices acknowledged `revision`: each one that did is waiting. */
function acknowledged(revision: number) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  try {
    const row = sqlite
      .prepare('select count(*) as total from device_sync_states where acknowledged_revision = ?')
      .get(revision) as { total: number }
    return Number(row.total)
  } finally {
    sqlite.close()
  }
}

function currentRevision() {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  try {
    const row = sqlite
      .prepare(`select value from revision_counters where name = 'face_db'`)
      .get() as { value: number }
    return Number(row.value)
  } finally {
    sqlite.close()
  }
}

/** A signed-in operator's cookies and the CSRF token of their session. */
async function signIn() {
  const jar = new Map<string, string>()
  const keep = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]
      jar.set(pair.slice(0, pair.indexOf('=')), pair)
    }
  }
  const cookies = () => [...jar.values()].join('; ')
  const csrfOf = (html: string) => /name=['"]_csrf['"] value=['"]([^'"]+)['"]/.exec(html)![1]
  const page = await fetch(`${origin}/login`)
  keep(page)
  const signedIn = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': cookies() },
    body: new URLSearchParams({ _csrf: csrfOf(await page.text()), ...operator }),
  })
  keep(signedIn)
  return { cookies, csrfOf, keep }
}

async function setStatus(
  session: Awaited<ReturnType<typeof signIn>>,
  personId: number,
  status: 'active' | 'suspended'
) {
  const page = await fetch(`${origin}/admin/people/${personId}/edit`, {
    headers: { cookie: session.cookies() },
  })
  session.keep(page)
  const response = await fetch(`${origin}/admin/people/${personId}/status`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cookie': session.cookies(),
      'referer': `${origin}/admin/people/${personId}/edit`,
    },
    body: new URLSearchParams({ _csrf: session.csrfOf(await page.text()), status }),
  })
  session.keep(response)
  if (response.status !== 302) throw new Error(`status change answered ${response.status}`)
}

async function waitUntil(check: () => boolean, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

await rm(`tmp/${dbFile}`, { force: true })
migrate(dbFile)
const seeded = seed()
ace(dbFile, [
  'operator:create',
  operator.email,
  '--role=admin',
  `--password=${operator.password}`,
  '--name=Bench',
])
const server = await startServer({
  port: values.port,
  dbFile,
  env: {
    QUEUE_WORKER: 'true',
    LIMITER_STORE: 'memory',
    DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
    DEVICE_RATE_PER_DEVICE: '100000',
    DEVICE_SYNC_WAIT_SECONDS: '600',
  },
})

const rows: Record<string, string | number>[] = []
try {
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const idleMb = await residentMegabytes(server.pid!)
  const session = await signIn()
  for (let round = 1; round <= rounds; round++) {
    const revision = currentRevision()
    const subscribing = performance.now()
    const answers = await subscribeAll(seeded.terminals, 100, revision)
    await waitUntil(
      () => acknowledged(revision) === terminals,
      `${terminals} terminals wait`,
      600_000
    )
    const subscribedMs = performance.now() - subscribing
    const waitingMb = await residentMegabytes(server.pid!)

    const changed = performance.now()
    const told: number[] = []
    const counted = answers.map((answer) =>
      answer.then((body) => {
        told.push(performance.now() - changed)
        return body
      })
    )
    await setStatus(session, seeded.personId, round % 2 === 1 ? 'suspended' : 'active')
    const postedMs = performance.now() - changed
    const bodies = await Promise.all(counted)
    told.sort((a, b) => a - b)
    const notified = bodies.filter((body) => body.code === 0 && body.changed === true).length
    rows.push({
      'round': round,
      'terminals waiting': terminals,
      'subscribe all (s)': (subscribedMs / 1000).toFixed(1),
      'change POST (ms)': postedMs.toFixed(0),
      'first told (ms)': told[0].toFixed(0),
      'median told (ms)': told[Math.floor(told.length / 2)].toFixed(0),
      'all told (ms)': told[told.length - 1].toFixed(0),
      'told "changed"': notified,
      'RSS waiting (MB)': waitingMb,
      'RSS all answered (MB)': await residentMegabytes(server.pid!),
    })
  }
  console.table(rows)
  console.log(
    `Server RSS before any terminal called: ${idleMb} MB. A round's "RSS waiting" against the previous round's "all answered" is what the waits themselves hold.`
  )
} finally {
  agent.destroy()
  await stopServer(server)
  await rm(`tmp/${dbFile}`, { force: true })
}
