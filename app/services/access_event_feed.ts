import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import terminalConfig from '#config/terminal'
import { isRedisUnavailable } from '#services/redis_availability'

export type AccessEventNotice = { id: number }

/**
 * Recorded access events, announced over Redis pub/sub so that every
 * server process can push them to the admin pages it serves.
 */
export class AccessEventFeed {
  static channel = terminalConfig.accessEventsChannel

  /** Announcing is best effort: a Redis outage must not lose the event itself. */
  async publish(notice: AccessEventNotice) {
    try {
      await redis.publish(AccessEventFeed.channel, JSON.stringify(notice))
    } catch (error) {
      logger.warn({ err: error, eventId: notice.id }, 'access event not announced')
    }
  }

  /**
   * Calls `listener` for each event announced from now on; `ready` once
   * Redis confirmed the subscription, `lost` when it could not be made or
   * the connection dropped (announcements may then have been missed).
   * Returns the unsubscribe function, which never fails: Redis may be down.
   */
  subscribe(listener: (notice: AccessEventNotice) => void, ready?: () => void, lost?: () => void) {
    const handler = (message: string) => {
      const notice = parseNotice(message)
      if (notice) listener(notice)
    }
    const connection = redis.connection()
    let closed = false
    const release = async () => {
      try {
        await connection.unsubscribe(AccessEventFeed.channel, handler)
      } catch (error) {
        logger.debug({ err: error }, 'access event feed: unsubscribed while Redis is away')
      }
    }
    const stopWatching = connection.on('subscriber:close', () => lost?.())
    connection.subscribe(AccessEventFeed.channel, handler, {
      // A subscription confirmed after its subscriber left is released at once.
      onSubscription: () => (closed ? void release() : ready?.()),
      onError: (error) => {
        // An outage is logged once by the connection's watch.
        if (!isRedisUnavailable(error)) logger.warn({ err: error }, 'access event feed unavailable')
        lost?.()
      },
    })
    return async () => {
      closed = true
      stopWatching()
      await release()
    }
  }
}

function parseNotice(message: string): AccessEventNotice | null {
  try {
    const value = JSON.parse(message) as { id?: unknown }
    return Number.isSafeInteger(value.id) ? { id: value.id as number } : null
  } catch {
    return null
  }
}
