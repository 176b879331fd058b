import db from '@adonisjs/lucid/services/db'
import { toSqlDateTime } from '#services/sql_time'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'

/** Transactions whose commit asks for a device sync already. */
const announced = new WeakSet<TransactionClientContract>()

/**
 * The face-database revision: a counter bumped by every change to what a
 * device may see, so that devices can later fetch only what changed since
 * the revision they hold.
 */
export class FaceDbRevision {
  static counter = 'face_db'

  /**
   * Bumps the counter inside `trx` and returns the new value. The row lock
   * taken by the UPDATE serialises concurrent bumps. Once the transaction
   * commits, the device sync job is asked to tell the devices concerned
   * (one run however many bumps a transaction or a burst makes).
   */
  async bump(trx: TransactionClientContract) {
    await trx.from('revision_counters').where('name', FaceDbRevision.counter).increment('value', 1)
    if (!announced.has(trx)) {
      announced.add(trx)
      // Not awaited: the commit (and the request that made it) does not wait for Redis.
      trx.after('commit', () => void requestDeviceSync())
    }
    return this.current(trx)
  }

  async current(client: TransactionClientContract | typeof db = db) {
    const row = await client.from('revision_counters').where('name', FaceDbRevision.counter).first()
    return Number(row?.value ?? 0)
  }

  /**
   * Sends every device that an access group using `scope` grants (a
   * schedule, or one group) everything again at its next sync, with one
   * bump: what those devices decide offline (the groups' names, windows
   * and holidays) changed, though no person did.
   */
  async resendToDevicesOf(
    trx: TransactionClientContract,
    scope: { scheduleId: number } | { accessGroupId: number }
  ) {
    const devices = trx
      .from('access_group_devices as gd')
      .join('access_groups as g', 'g.id', 'gd.access_group_id')
      .select('gd.device_id')
    if ('scheduleId' in scope) devices.where('g.schedule_id', scope.scheduleId)
    else devices.where('g.id', scope.accessGroupId)
    const rows: { device_id: number }[] = await devices
    const ids = rows.map((row) => row.device_id)
    if (ids.length === 0) return
    const revision = await this.bump(trx)
    await trx.from('devices').whereIn('id', ids).update({ sync_revision: revision })
  }

  /**
   * Records that a person left the face database at `revision`.
   */
  async tombstone(trx: TransactionClientContract, username: string, revision: number) {
    await trx
      .table('face_db_tombstones')
      .insert({ username, revision, created_at: toSqlDateTime() })
  }
}

/**
 * Imported when called: the job reaches the queue and the sync ledger,
 * which need this class.
 */
async function requestDeviceSync() {
  const { default: SyncDevicesJob } = await import('#jobs/sync_devices_job')
  await SyncDevicesJob.request()
}
