import { DateTime } from 'luxon'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import queueConfig from '#config/queue'
import retentionConfig from '#config/retention'
import { BiometricErasure, systemActor } from '#faces/biometric_erasure'
import { MediaStore } from '#faces/media_store'
import { toSqlDateTime } from '#services/sql_time'

type Query = DatabaseQueryBuilderContract<any>

/** The audit entry's name for the rule that erases the biometric data of inactive people. */
export const biometricRetentionRule = 'biometric_retention'

/**
 * A retention period as the jobs receive it: whole days, at least one, so
 * that a payload gone wrong fails the job rather than deleting today's
 * records.
 */
function cutoffOf(days: unknown, field: string) {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1) {
    throw new Error(
      `${field} must be a whole number of days, at least 1, not ${JSON.stringify(days)}`
    )
  }
  return toSqlDateTime(DateTime.now().minus({ days }))
}

/**
 * The retention in force, as the Settings page lists it: each rule's days,
 * the environment key that sets them and when its nightly job runs.
 */
export function retentionInForce() {
  const pattern = (job: string) =>
    queueConfig.schedules.find((schedule) => schedule.job === job)?.pattern ?? null
  return [
    {
      key: 'events',
      days: retentionConfig.eventDays,
      env: 'EVENT_RETENTION_DAYS',
      pattern: pattern('prune-access-events'),
    },
    {
      key: 'snapshots',
      days: retentionConfig.snapshotDays,
      env: 'SNAPSHOT_RETENTION_DAYS',
      pattern: pattern('prune-event-snapshots'),
    },
    {
      key: 'biometrics',
      days: retentionConfig.biometricDays,
      env: 'BIOMETRIC_RETENTION_DAYS',
      pattern: pattern('erase-inactive-biometrics'),
    },
  ]
}

/**
 * Applies the site's retention (config/retention.ts): access events,
 * event snapshots and the biometric data of inactive people each go once
 * older than the site keeps them. Every step works in batches, so that a
 * first run on a large table holds no long transaction, and deletes only
 * what is still past its time, so that a retried or repeated run changes
 * nothing twice.
 */
@inject()
export class RetentionService {
  constructor(
    private media: MediaStore,
    private erasure: BiometricErasure
  ) {}

  /**
   * Deletes access events older than `olderThanDays`, with their snapshots
   * and the snapshots' thumbnails. Before events go, the latest one of each
   * person they name is kept on the person (`last_access_at`), which
   * biometric retention reads.
   */
  async pruneAccessEvents(olderThanDays: number, batchSize = 1000) {
    const cutoff = cutoffOf(olderThanDays, 'olderThanDays')
    let removed = 0
    for (;;) {
      const batch: {
        id: number
        person_id: number | null
        occurred_at: string | Date
        snapshot_path: string | null
      }[] = await db
        .from('access_events')
        .where('occurred_at', '<', cutoff)
        .select('id', 'person_id', 'occurred_at', 'snapshot_path')
        .limit(batchSize)
      if (batch.length === 0) return removed
      await db.transaction(async (trx) => {
        await this.#rememberLastAccess(trx, batch)
        await trx
          .from('access_events')
          .whereIn(
            'id',
            batch.map((row) => row.id)
          )
          .delete()
      })
      await this.#removeFiles(batch.map((row) => row.snapshot_path))
      removed += batch.length
    }
  }

  /**
   * Deletes the snapshots of events older than `olderThanDays` and clears
   * their path; the events stay. The paths are cleared before the files
   * go, so that a crash in between leaves files no event shows rather than
   * events that show a missing picture.
   */
  async pruneSnapshots(olderThanDays: number, batchSize = 1000) {
    const cutoff = cutoffOf(olderThanDays, 'olderThanDays')
    let removed = 0
    for (;;) {
      const batch: { id: number; snapshot_path: string }[] = await db
        .from('access_events')
        .where('occurred_at', '<', cutoff)
        .whereNotNull('snapshot_path')
        .select('id', 'snapshot_path')
        .limit(batchSize)
      if (batch.length === 0) return removed
      await db
        .from('access_events')
        .whereIn(
          'id',
          batch.map((row) => row.id)
        )
        .update({ snapshot_path: null })
      await this.#removeFiles(batch.map((row) => row.snapshot_path))
      removed += batch.length
    }
  }

  /**
   * People who hold biometric data (a face, or a face held for review) and
   * have been inactive for `inactiveDays`: no access event named them, no
   * face was enrolled or sent for them, and their record was neither
   * created nor changed in that time.
   */
  async inactivePeople(inactiveDays: number): Promise<{ id: number; username: string }[]> {
    const cutoff = cutoffOf(inactiveDays, 'inactiveDays')
    const query = db.from('people').select('people.id', 'people.username').orderBy('people.id')
    return this.#inactive(query, cutoff).where((data) =>
      data
        .whereExists((faces) =>
          faces.from('faces').select('faces.id').whereColumn('faces.person_id', 'people.id')
        )
        .orWhereExists((held) =>
          held
            .from('enrolment_reviews')
            .select('enrolment_reviews.id')
            .whereColumn('enrolment_reviews.person_id', 'people.id')
            .where('enrolment_reviews.kind', 'face_change')
        )
    )
  }

  /**
   * Erases the biometric data of every person inactive for
   * `inactiveDays`, each through BiometricErasure (a tombstone for the
   * devices, an audit entry naming the rule, the server as the actor).
   * Inactivity is checked again inside each erasure, so that a person seen
   * meanwhile keeps their faces.
   */
  async eraseInactive(inactiveDays: number) {
    const actor = systemActor(biometricRetentionRule)
    let erased = 0
    for (const person of await this.inactivePeople(inactiveDays)) {
      const outcome = await this.erasure.erase(actor, person, {
        action: 'person.biometric_erase',
        applies: (current, trx) => this.#stillInactive(trx, current.id, inactiveDays),
        reason: { rule: biometricRetentionRule, retentionDays: inactiveDays },
      })
      if (outcome) erased += 1
    }
    return erased
  }

  async #stillInactive(trx: TransactionClientContract, personId: number, inactiveDays: number) {
    const cutoff = cutoffOf(inactiveDays, 'inactiveDays')
    const query = trx.from('people').select('people.id').where('people.id', personId)
    return (await this.#inactive(query, cutoff).first()) !== null
  }

  /** Narrows a query of people to those with no activity since `cutoff`. */
  #inactive(query: Query, cutoff: string) {
    return query
      .where('people.created_at', '<', cutoff)
      .where('people.updated_at', '<', cutoff)
      .where((seen) =>
        seen.whereNull('people.last_access_at').orWhere('people.last_access_at', '<', cutoff)
      )
      .whereNotExists((events) =>
        events
          .from('access_events')
          .select('access_events.id')
          .whereColumn('access_events.person_id', 'people.id')
          .where('access_events.occurred_at', '>=', cutoff)
      )
      .whereNotExists((faces) =>
        faces
          .from('faces')
          .select('faces.id')
          .whereColumn('faces.person_id', 'people.id')
          .where('faces.created_at', '>=', cutoff)
      )
      .whereNotExists((sent) =>
        sent
          .from('enrolment_reviews')
          .select('enrolment_reviews.id')
          .whereColumn('enrolment_reviews.person_id', 'people.id')
          .where('enrolment_reviews.created_at', '>=', cutoff)
      )
  }

  /** Moves each person's `last_access_at` forward to their latest event among `events`. */
  async #rememberLastAccess(
    trx: TransactionClientContract,
    events: { person_id: number | null; occurred_at: string | Date }[]
  ) {
    const latest = new Map<number, string>()
    for (const event of events) {
      if (event.person_id === null) continue
      // SQLite hands back the stored text, which compares as stored; PostgreSQL a Date.
      const at =
        typeof event.occurred_at === 'string' ? event.occurred_at : toSqlDateTime(event.occurred_at)
      const known = latest.get(event.person_id)
      if (!known || known < at) latest.set(event.person_id, at)
    }
    for (const [personId, at] of latest) {
      await trx
        .from('people')
        .where('id', personId)
        .where((older) => older.whereNull('last_access_at').orWhere('last_access_at', '<', at))
        .update({ last_access_at: at })
    }
  }

  async #removeFiles(paths: (string | null)[]) {
    await Promise.all(
      paths
        .filter((path): path is string => Boolean(path))
        .map((path) => this.media.remove(path).catch(() => undefined))
    )
  }
}
