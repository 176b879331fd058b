import { spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { Redis } from 'ioredis'
import env from '#start/env'

const loopback = new Set(['127.0.0.1', 'localhost', '::1'])

/** The settings a server started from the command line is started again with. */
const kept = [
  'bind',
  'port',
  'dir',
  'dbfilename',
  'save',
  'appendonly',
  'appendfilename',
  'pidfile',
  'logfile',
  'requirepass',
  'daemonize',
] as const

/**
 * The Redis server the test run's app uses, stopped and started again as a
 * fault is: a real `redis-server` process going away and coming back with
 * its data (saved when it stops), on the same address. Only a server on
 * this machine started from the command line (as scripts/redis.sh and CI
 * start it) can be started again as it was; `find` says why any other is
 * left alone.
 */
export class SuiteRedis {
  #running = true

  private constructor(
    readonly host: string,
    readonly port: number,
    private settings: Record<(typeof kept)[number], string>
  ) {}

  static async find(): Promise<SuiteRedis> {
    const host = env.get('REDIS_HOST')
    const port = env.get('REDIS_PORT')
    if (!loopback.has(host)) throw notOurs(`Redis at ${host} is not on this machine`)
    const admin = SuiteRedis.#admin(host, port)
    try {
      const info = await admin.info('server')
      const configFile = /^config_file:(.*)$/m.exec(info)?.[1]?.trim()
      if (configFile) throw notOurs(`Redis on port ${port} runs from ${configFile}`)
      const pairs = (await admin.config('GET', ...kept, 'supervised')) as string[]
      const settings = Object.fromEntries(
        pairs.flatMap((value, index) => (index % 2 === 0 ? [[value, pairs[index + 1]]] : []))
      ) as Record<(typeof kept)[number] | 'supervised', string>
      if (settings.supervised !== 'no') {
        throw notOurs(`Redis on port ${port} is supervised by ${settings.supervised}`)
      }
      return new SuiteRedis(host, port, settings)
    } finally {
      admin.disconnect()
    }
  }

  get running() {
    return this.#running
  }

  /** Saves the data and stops the server; resolves once its port refuses connections. */
  async stop() {
    const admin = SuiteRedis.#admin(this.host, this.port)
    this.#running = false
    await admin.shutdown('SAVE').catch(() => {})
    admin.disconnect()
    await until(async () => !(await answers(this.host, this.port)), 'Redis stops', 10_000)
  }

  /** Starts the server as it ran, with its saved data; resolves once it answers PING. */
  async start() {
    const args = kept.flatMap((name) => {
      const value = this.settings[name]
      if (name === 'save') return ['--save', ...(value === '' ? [''] : value.split(' '))]
      if (value === '') return []
      return [`--${name}`, ...(name === 'bind' ? value.split(' ') : [value])]
    })
    const child = spawn('redis-server', args, { detached: true, stdio: 'ignore' })
    child.unref()
    await until(() => this.#pong(), 'Redis answers again', 10_000)
    this.#running = true
  }

  async #pong() {
    const admin = SuiteRedis.#admin(this.host, this.port)
    try {
      return (await admin.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      admin.disconnect()
    }
  }

  /** A connection of its own, which gives up at the first failure. */
  static #admin(host: string, port: number) {
    const admin = new Redis({
      host,
      port,
      password: env.get('REDIS_PASSWORD') || undefined,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    })
    admin.on('error', () => {})
    return admin
  }
}

function answers(host: string, port: number) {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host, port })
    socket.setTimeout(500)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Resolves once `check` holds, polling every 50 ms; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting until ${what}`)
}

/** Why the suite's Redis is not one the fault tests may stop and start. */
function notOurs(reason: string) {
  return new Error(
    `${reason}; the fault tests stop and start the Redis they run on: run them with npm test, which starts one of their own`
  )
}
