import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { allocatorEnvironment } from '#services/memory_allocator'

/**
 * What the benchmarks share: a fresh SQLite database migrated by the app's
 * own migrations, and the server (bin/server.ts) started on it and stopped.
 */

/** The monitoring token benches give the servers they start, to read /health's checks. */
export const healthToken = `bench-${randomBytes(16).toString('hex')}`
export const healthHeaders = { authorization: `Bearer ${healthToken}` }

/** The time as SQLite columns of the app hold it. */
export function sqliteNow() {
  return new Date().toISOString().replace('T', ' ').slice(0, 19)
}

export function migrate(dbFile: string) {
  const result = spawnSync(
    process.execPath,
    ['ace', 'migration:run', '--force', '--compact-output', '--no-schema-generate'],
    { env: { ...process.env, DB_FILE: dbFile }, stdio: 'inherit' }
  )
  if (result.status !== 0) throw new Error('migrations failed')
}

/** Runs an ace command against the bench database and returns what it printed. */
export function ace(dbFile: string, args: string[]) {
  const result = spawnSync(process.execPath, ['ace', ...args], {
    env: { ...process.env, DB_FILE: dbFile },
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`node ace ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/**
 * A terminal as an installer brings one in: it calls from 127.0.0.1 and
 * is registered as pending, showing the consent text (version `bench`)
 * before it enrols anyone, then `node ace device:approve <serial> …args`
 * approves it. Returns what the command printed (the credential, for a
 * device that signs).
 */
export function approvedDevice(
  dbFile: string,
  device: { deviceName: string; serialNumber: string },
  args: string[] = []
) {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  sqlite
    .prepare(
      `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
         last_seen_address, config, created_at, updated_at)
       values (?, ?, 'pending', 'online', 'face', 0, '127.0.0.1',
         '{"enrolmentConsentVersion":"bench"}', ?, ?)`
    )
    .run(device.deviceName, device.serialNumber, now, now)
  sqlite.close()
  return ace(dbFile, ['device:approve', device.serialNumber, ...args])
}

/** The flags of a legacy bench device at 127.0.0.1 that may do everything. */
export const legacyEverything = [
  '--legacy',
  '--address=127.0.0.1',
  '--allow=recognition,database,feedback,enrolment',
]

type Health = { checks: { meta?: { instances?: { id: string; state: string }[] } }[] }

/**
 * Starts the server on `port` and `dbFile` with `env` added, and waits
 * until it answers /health (and, with `engine`, until that engine
 * instance runs). It runs on the memory allocator the service units set,
 * as a site's server does.
 */
export async function startServer(options: {
  port: string
  dbFile: string
  env?: Record<string, string>
  engine?: string
}) {
  const origin = `http://127.0.0.1:${options.port}`
  const server = spawn(process.execPath, ['--import=@poppinss/ts-exec', 'bin/server.ts'], {
    env: {
      ...process.env,
      PORT: options.port,
      HOST: '127.0.0.1',
      DB_FILE: options.dbFile,
      LOG_LEVEL: 'warn',
      QUEUE_WORKER: 'false',
      HEALTH_TOKEN: healthToken,
      ...allocatorEnvironment(),
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (let waited = 0; waited < 120_000; waited += 250) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`)
    const health = await fetch(`${origin}/health`, { headers: healthHeaders }).then(
      (response) => response.json() as Promise<Health>,
      () => null
    )
    const instances = health?.checks.flatMap((check) => check.meta?.instances ?? []) ?? []
    const ready = options.engine
      ? instances.some((instance) => instance.id === options.engine && instance.state === 'running')
      : health !== null
    if (ready) return server
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error('the server did not get ready within two minutes')
}

export async function stopServer(server: ChildProcess) {
  const exited = new Promise((resolve) => server.once('exit', resolve))
  server.kill('SIGTERM')
  await exited
}

export async function residentMegabytes(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kilobytes / 1024)
}

/** Percentiles of latencies in milliseconds, as the tables print them. */
export function percentile(sorted: number[], share: number) {
  return sorted[Math.floor(share * (sorted.length - 1))].toFixed(1)
}
