import type { Logger } from '@adonisjs/core/logger'
import type { Connection, RedisService } from '@adonisjs/redis/types'
import redis from '@adonisjs/redis/services/main'

/**
 * What ioredis and the rate limiter answer a command with while Redis cannot
 * be reached: the connection is down and commands are not queued, a queued
 * command outlived its reconnection attempt, or Redis stopped answering.
 */
const unavailableMessages = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
  'Command timed out',
  'Redis connection is not ready',
]

/**
 * Whether an error means that the server's Redis is unavailable (down,
 * restarting, unreachable or not answering), as opposed to a bug: callers
 * answer it as an outage, which the same request may not meet a few
 * seconds later.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  if (unavailableMessages.includes(error.message)) return true
  return error.cause !== undefined && error.cause !== error && isRedisUnavailable(error.cause)
}

/** Whether this process's connection to Redis is up at this moment. */
export function redisIsUp() {
  return redis.connection().status === 'ready'
}

/**
 * The result of `work`, or `fallback` when it failed because Redis is
 * unavailable: for what a page can show without, such as counts kept in
 * Redis.
 */
export async function unlessRedisIsDown<T, F>(work: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await work
  } catch (error) {
    if (isRedisUnavailable(error)) return fallback
    throw error
  }
}

/** What a socket to Redis fails with while Redis is down or unreachable. */
const socketErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE'])

/** Whether an error is a Redis connection failing, rather than a command or a bug. */
export function isRedisConnectionError(error: unknown) {
  const code = (error as { code?: unknown } | null)?.code
  return isRedisUnavailable(error) || (typeof code === 'string' && socketErrors.has(code))
}

/**
 * Logs a connection to Redis going down once, instead of every failed
 * reconnection attempt, and coming back once.
 */
export class RedisOutageLog {
  #down = false

  constructor(
    private logger: Logger,
    private label: string
  ) {}

  get isDown() {
    return this.#down
  }

  lost(error: unknown) {
    if (this.#down) return
    this.#down = true
    this.logger.warn(
      { err: error },
      `${this.label} is down; what needs Redis answers "unavailable" until it is back`
    )
  }

  regained() {
    if (!this.#down) return
    this.#down = false
    this.logger.info(`${this.label} is back`)
  }
}

type IoRedis = { options: { enableOfflineQueue?: boolean } }

/** From now on, commands fail at once while the connection is down. */
function failFast(connection: IoRedis | undefined) {
  if (connection) connection.options.enableOfflineQueue = false
}

/**
 * Makes every Redis connection of the process (commands and pub/sub alike)
 * cope with Redis going away and coming back. A connection queues commands
 * only until it is first ready, so that the first commands of a process
 * wait for the connection it just opened; from then on, while it is down,
 * commands fail at once (and callers answer that Redis is unavailable)
 * instead of waiting for it or running late when it returns. ioredis keeps
 * reconnecting and subscribes again to the channels it had.
 *
 * Losing and regaining a connection is logged once each, instead of every
 * reconnection attempt as a fatal error.
 */
export function watchRedisConnections(manager: RedisService, logger: Logger) {
  manager.doNotLogErrors()
  const watch = (connection: Connection) => {
    const name = connection.connectionName
    const main = new RedisOutageLog(logger, `Redis connection "${name}"`)
    const subscriber = new RedisOutageLog(logger, `Redis subscriber connection "${name}"`)
    connection.on('ready', () => {
      failFast(connection.ioConnection)
      main.regained()
    })
    connection.on('error', ({ error }) => main.lost(error))
    connection.on('subscriber:ready', () => {
      failFast(connection.ioSubscriberConnection)
      subscriber.regained()
    })
    connection.on('subscriber:error', ({ error }) => subscriber.lost(error))
  }
  for (const connection of Object.values(manager.activeConnections)) {
    if (connection) watch(connection)
  }
  manager.on('connection', watch)
}
