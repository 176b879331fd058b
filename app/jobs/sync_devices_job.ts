import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { deviceSyncNotices } from '#services/device_sync_notices'
import { QueueService } from '#services/queue_service'

/**
 * Counts each device's pending face-database changes and announces the
 * new revision to every process (where terminals wait in syncEvents).
 * Dispatched after every committed revision bump; a burst of changes is
 * one run, and a change made while a run is going makes one more run
 * after it. Idempotent: a retried run counts from the database again.
 */
export default class SyncDevicesJob {
  static jobName = 'sync-devices'
  static options = {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    deduplication: { id: 'sync-devices', keepLastIfActive: true },
    removeOnComplete: true,
  }

  static #owed = false
  static #inFlight = new Set<Promise<void>>()

  /**
   * Asks for a run. While the queue cannot reach Redis the run is owed,
   * and asked for again as soon as the queue's connection is back. A
   * process that is shutting down asks no more (its queue is closing);
   * the requests it made before are waited for by `settled`.
   */
  static request() {
    if (app.isTerminating || app.isTerminated) return Promise.resolve()
    const request = SyncDevicesJob.#request().finally(() => {
      SyncDevicesJob.#inFlight.delete(request)
    })
    SyncDevicesJob.#inFlight.add(request)
    return request
  }

  /**
   * Waits, at most `ms`, for the requests in flight: a command that
   * changed what devices may see (device:approve) ends once the run that
   * tells them is queued, not before and not without it.
   */
  static async settled(ms: number) {
    if (SyncDevicesJob.#inFlight.size === 0) return
    await Promise.race([
      Promise.allSettled([...SyncDevicesJob.#inFlight]),
      new Promise((resolve) => setTimeout(resolve, ms).unref()),
    ])
  }

  static async #request() {
    let queue: QueueService | undefined
    try {
      queue = await app.container.make(QueueService)
      await queue.dispatch(SyncDevicesJob, {})
    } catch (error) {
      if (SyncDevicesJob.#owed || !queue) {
        if (!queue) logger.error({ err: error }, 'device sync not queued')
        return
      }
      SyncDevicesJob.#owed = true
      logger.warn({ err: error }, 'device sync not queued; it is queued once Redis is back')
      queue.queue.getBackend().once('ready', () => {
        SyncDevicesJob.#owed = false
        void SyncDevicesJob.request()
      })
    }
  }

  async handle(_payload: Record<string, never>) {
    const ledger = await app.container.make(DeviceSyncLedger)
    const revision = await ledger.process()
    await deviceSyncNotices.publish(revision)
    return { revision }
  }
}
