import type { ApplicationService } from '@adonisjs/core/types'

const sweepEveryMs = 60 * 60_000

/**
 * Sweeps STORAGE_DIR (StorageSweep) once the web server is ready, which
 * also makes files written before it owner-only, and every hour after, so
 * that what a crash left is removed once old enough whenever the restart
 * came. On SQLite the server is the database's only writer, so the first
 * sweep removes at once what was left from before it started; several
 * servers on PostgreSQL wait for the grace period. Registered for the web
 * server alone (adonisrc.ts): tooling and tests leave the storage as it
 * is; `node ace storage:sweep` runs it by hand.
 */
export default class StorageProvider {
  #timer?: NodeJS.Timeout

  constructor(protected app: ApplicationService) {}

  async ready() {
    const logger = await this.app.container.make('logger')
    const db = await this.app.container.make('lucid.db')
    const startedAt = Math.floor(performance.timeOrigin)
    const soleWriter = ['better-sqlite3', 'sqlite3', 'libsql'].includes(
      db.connection().dialect.name
    )
    const sweep = async (atStart: boolean) => {
      try {
        const { StorageSweep } = await import('#faces/storage_sweep')
        const sweeper = await this.app.container.make(StorageSweep)
        const report = await sweeper.run({
          tighten: atStart,
          writtenBefore: atStart && soleWriter ? startedAt : undefined,
        })
        const removed =
          report.partials.length +
          report.orphanPhotos.length +
          report.stagedFiles +
          report.uploadParts +
          report.thumbnails
        if (removed > 0 || report.tightened > 0) logger.info(report, 'storage swept')
      } catch (error) {
        logger.warn({ err: error }, 'storage sweep failed')
      }
    }
    void sweep(true)
    this.#timer = setInterval(() => void sweep(false), sweepEveryMs).unref()
  }

  shutdown() {
    clearInterval(this.#timer)
  }
}
