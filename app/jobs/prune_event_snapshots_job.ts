import app from '@adonisjs/core/services/app'
import { RetentionService } from '#services/retention_service'

/**
 * Deletes the snapshots of access events past the snapshot retention,
 * keeping the events. Idempotent: a retry deletes whatever the failed
 * attempt left.
 */
export default class PruneEventSnapshotsJob {
  static jobName = 'prune-event-snapshots'

  async handle(payload: { olderThanDays: number }) {
    const retention = await app.container.make(RetentionService)
    return { removed: await retention.pruneSnapshots(payload.olderThanDays) }
  }
}
