import { DateTime } from 'luxon'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import { MediaStore } from '#faces/media_store'
import { toSqlDateTime } from '#services/sql_time'

/**
 * Removes access events older than the site keeps them, with their
 * snapshots and the snapshots' thumbnails. Works in batches so a first run
 * on a large table does not hold one long transaction.
 */
@inject()
export class RetentionService {
  constructor(private media: MediaStore) {}

  async pruneAccessEvents(olderThanDays: number, batchSize = 1000) {
    const cutoff = toSqlDateTime(DateTime.now().minus({ days: olderThanDays }))
    let removed = 0
    for (;;) {
      const batch: { id: number; snapshot_path: string | null }[] = await db
        .from('access_events')
        .where('occurred_at', '<', cutoff)
        .select('id', 'snapshot_path')
        .limit(batchSize)
      if (batch.length === 0) return removed
      await db
        .from('access_events')
        .whereIn(
          'id',
          batch.map((row) => row.id)
        )
        .delete()
      await Promise.all(
        batch
          .filter((row) => row.snapshot_path)
          .map((row) => this.media.remove(row.snapshot_path!).catch(() => undefined))
      )
      removed += batch.length
    }
  }
}
