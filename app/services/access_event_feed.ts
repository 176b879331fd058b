import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import terminalConfig from '#config/terminal'

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
   * Redis confirmed the subscription. Returns the unsubscribe function.
   */
  subscribe(listener: (notice: AccessEventNotice) => void, ready?: () => void) {
    const handler = (message: string) => {
      const notice = parseNotice(message)
      if (notice) listener(notice)
    }
    const connection = redis.connection()
    connection.subscribe(AccessEventFeed.channel, handler, {
      onSubscription: () => ready?.(),
      onError: (error) => logger.warn({ err: error }, 'access event feed unavailable'),
    })
    return () => connection.unsubscribe(AccessEventFeed.channel, handler)
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
