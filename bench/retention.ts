/**
 * Retention at a site's scale: a database with PEOPLE people (each with a
 * face and its photo on disk; half of them seen lately, half inactive for
 * four years) and EVENTS access events (a third past the event retention,
 * a third past the snapshot retention, each of those with a snapshot file),
 * then the three nightly jobs run by a `node ace queue:work` process
 * through Redis, one after the other, and the erasure once more to show it
 * changes nothing twice. Prints how long each took and what it changed,
 * and checks the disk and the database afterwards.
 *
 *   npm run bench:retention                      # 2,000 people, 30,000 events
 *   PEOPLE=10000 EVENTS=100000 npm run bench:retention
 *
 * Uses the Redis of REDIS_HOST/REDIS_PORT (database 3, emptied first) and
 * a database and storage folder of its own under tmp/.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { join, relative } from 'node:path'
import { Queue, QueueEvents } from 'bullmq'
import { migrate } from './support/bench_server.js'

const people = Number(process.env.PEOPLE ?? 2000)
const events = Number(process.env.EVENTS ?? 30_000)
const dbFile = 'bench_retention.sqlite3'
const root = process.cwd()
const storage = join(root, 'tmp', 'bench_retention_storage')
const pluginsFile = join(root, 'tmp', 'bench_retention_plugins.json')
const redis = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
  password: process.env.REDIS_PASSWORD || undefined,
  db: 3,
  maxRetriesPerRequest: null,
}
const prefix = 'faceaccess:development:bull'

/** A time as the app's SQLite columns hold it, `days` ago. */
function daysAgo(days: number) {
  return new Date(Date.now() - days * 86_400_000).toISOString().replace('T', ' ').slice(0, 19)
}

async function countFiles(folder: string): Promise<number> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => [])
  let total = 0
  for (const entry of entries) {
    if (entry.isDirectory()) total += await countFiles(join(folder, entry.name))
    else total += 1
  }
  return total
}

async function populate() {
  await rm(join(root, 'tmp', dbFile), { force: true })
  await rm(storage, { recursive: true, force: true })
  migrate(dbFile)
  const sqlite = new DatabaseSync(join(root, 'tmp', dbFile))
  sqlite.exec('begin')
  const person = sqlite.prepare(
    `insert into people (username, display_name, status, revision, consent_given_at,
       consent_text_version, created_at, updated_at) values (?, ?, 'active', 0, ?, 'v1', ?, ?)`
  )
  const face = sqlite.prepare(
    `insert into faces (person_id, embedding, engine, model_id, dimension, source, image_path,
       created_at) values (?, ?, 'face-engine', 'faceapi-recognition', 128, 'photo', ?, ?)`
  )
  const event = sqlite.prepare(
    `insert into access_events (person_id, decision, reason, method, snapshot_path, occurred_at,
       received_at) values (?, 'granted', 'granted', 'face', ?, ?, ?)`
  )
  const embedding = new Uint8Array(new Float32Array(128).fill(0.088).buffer)
  const bytes = new Uint8Array(2048).fill(7)
  const old = daysAgo(4 * 365)
  for (let index = 1; index <= people; index++) {
    const photo = join(storage, 'faces', String(index % 100), `${index}.jpg`)
    await mkdir(join(storage, 'faces', String(index % 100)), { recursive: true })
    await writeFile(photo, bytes)
    const { lastInsertRowid } = person.run(`p${index}`, `Person ${index}`, old, old, old)
    face.run(lastInsertRowid, embedding, relative(root, photo), old)
    // Every other person was seen a week ago.
    if (index % 2 === 0) event.run(lastInsertRowid, null, daysAgo(7), daysAgo(7))
  }
  for (let index = 0; index < events; index++) {
    const kind = index % 3
    const at = kind === 0 ? daysAgo(400) : kind === 1 ? daysAgo(200) : daysAgo(1)
    let snapshot: string | null = null
    if (kind !== 2) {
      const folder = join(storage, 'snapshots', String(index % 100))
      await mkdir(folder, { recursive: true })
      snapshot = join(folder, `${index}.jpg`)
      await writeFile(snapshot, bytes)
    }
    event.run(null, snapshot ? relative(root, snapshot) : null, at, at)
  }
  sqlite.exec('commit')
  sqlite.close()
  await writeFile(pluginsFile, '[]')
}

function counts() {
  const sqlite = new DatabaseSync(join(root, 'tmp', dbFile))
  const one = (sql: string) => Number((sqlite.prepare(sql).get() as { n: number }).n)
  const result = {
    events: one('select count(*) as n from access_events'),
    snapshots: one('select count(*) as n from access_events where snapshot_path is not null'),
    faces: one('select count(*) as n from faces'),
    tombstones: one('select count(*) as n from face_db_tombstones'),
    erasures: one(`select count(*) as n from audit_logs where action = 'person.biometric_erase'`),
  }
  sqlite.close()
  return result
}

async function main() {
  console.log(`Populating ${people} people and ${events} events…`)
  await populate()
  const before = counts()
  const filesBefore = await countFiles(storage)

  const queue = new Queue('default', { connection: redis, prefix })
  const queueEvents = new QueueEvents('default', { connection: redis, prefix })
  await queue.obliterate({ force: true })
  await queueEvents.waitUntilReady()

  const worker = spawn(process.execPath, ['ace', 'queue:work', '--concurrency=1'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DB_FILE: dbFile,
      STORAGE_DIR: storage,
      PLUGINS_FILE: pluginsFile,
      REDIS_DB: String(redis.db),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })

  // Timed from a running worker, not from its start.
  const workerUp = async () => {
    const clients = await queue.getWorkers()
    return clients.some((client) => client.db === String(redis.db))
  }
  while (!(await workerUp())) {
    if (worker.exitCode !== null) throw new Error('queue:work exited')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const rows: string[][] = []
  const run = async (name: string, payload: Record<string, number>) => {
    const started = performance.now()
    const job = await queue.add(name, payload, { attempts: 1 })
    const result = await job.waitUntilFinished(queueEvents, 30 * 60_000)
    const seconds = (performance.now() - started) / 1000
    const changed = Number(Object.values(result as Record<string, number>)[0])
    rows.push([
      name,
      JSON.stringify(payload),
      String(changed),
      seconds.toFixed(2),
      changed > 0 ? Math.round(changed / seconds).toString() : '-',
    ])
  }

  try {
    await run('prune-access-events', { olderThanDays: 365 })
    await run('prune-event-snapshots', { olderThanDays: 90 })
    await run('erase-inactive-biometrics', { inactiveDays: 1095 })
    await run('erase-inactive-biometrics', { inactiveDays: 1095 })
  } finally {
    worker.kill('SIGTERM')
    await new Promise((resolve) => worker.once('exit', resolve))
    await queue.obliterate({ force: true })
    await queue.close()
    await queueEvents.close()
  }

  const after = counts()
  const filesAfter = await countFiles(storage)
  const widths = [30, 22, 9, 9, 8]
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join(' ')
  console.log()
  console.log(line(['job (queue:work, 1 at a time)', 'payload', 'changed', 'seconds', 'per s']))
  for (const row of rows) console.log(line(row))
  console.log()
  console.log(line(['', 'before', 'after']))
  for (const key of Object.keys(before) as (keyof typeof before)[]) {
    console.log(line([key, String(before[key]), String(after[key])]))
  }
  console.log(line(['files in storage', String(filesBefore), String(filesAfter)]))

  const third = Math.ceil(events / 3)
  const expected = {
    events: before.events - third,
    faces: people / 2,
    tombstones: people / 2,
    erasures: people / 2,
  }
  const wrong = Object.entries(expected).filter(
    ([key, value]) => after[key as keyof typeof after] !== value
  )
  if (wrong.length > 0) {
    console.error('Unexpected counts:', wrong)
    process.exitCode = 1
  }
  await rm(storage, { recursive: true, force: true })
  await rm(join(root, 'tmp', dbFile), { force: true })
  await rm(pluginsFile, { force: true })
}

await main()
