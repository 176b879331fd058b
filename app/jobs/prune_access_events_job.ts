import app from '@adonisjs/core/services/app'
import { RetentionService } from '#services/retention_service'

/**
 * Deletes access events (and their snapshots) past the retention period.
 * Idempotent: a retry deletes whatever the failed attempt left.
 */
export default class PruneAccessEventsJob {
  static jobName = 'prune-access-events'
  static options = { attempts: 3 }

  async handle(payload: { olderThanDays: number }) {
    const retention = await app.container.make(RetentionService)
    return { removed: await retention.pruneAccessEvents(payload.olderThanDays) }
  }
}
