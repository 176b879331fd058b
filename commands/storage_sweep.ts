import { inject } from '@adonisjs/core'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { StorageSweep } from '#faces/storage_sweep'

/**
 * What the web server does when it starts and every hour: removes what a
 * crash left in STORAGE_DIR (`.partial` files, enrolment photos no face or
 * review references, upload parts, expired staged photos), each only once
 * it is old enough that no work in flight owns it, and makes files others
 * could read owner-only. Safe while the server runs.
 */
export default class StorageSweepCommand extends BaseCommand {
  static commandName = 'storage:sweep'
  static description = 'Remove what a crash left in the photo storage and make it owner-only'
  static options: CommandOptions = { startApp: true }

  @flags.number({
    description: `Minutes an unreferenced photo or upload part must be old (default ${StorageSweep.graceMinutes})`,
  })
  declare grace?: number

  @inject()
  async run(sweep: StorageSweep) {
    const report = await sweep.run({ tighten: true, graceMinutes: this.grace })
    for (const path of [...report.partials, ...report.orphanPhotos]) {
      this.logger.info(`removed ${path}`)
    }
    this.logger.success(
      `${report.partials.length} partial files, ${report.orphanPhotos.length} unreferenced photos, ` +
        `${report.uploadParts} upload parts, ${report.stagedFiles} expired staged files and ` +
        `${report.thumbnails} thumbnails of removed photos removed; ` +
        `${report.tightened} files and folders made owner-only`
    )
  }
}
