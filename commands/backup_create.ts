import { inject } from '@adonisjs/core'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { SiteBackup } from '#services/backup/site_backup'

/**
 * Writes one encrypted file with everything a site needs to come back on
 * another machine: database, photos and snapshots, .env, models' checksums.
 */
export default class BackupCreate extends BaseCommand {
  static commandName = 'backup:create'
  static description = 'Back up the database, STORAGE_DIR and .env into one encrypted file'
  static help = [
    'Safe while the server runs. Encrypted with BACKUP_KEY from .env, or with --key-file:',
    '  node ace backup:create --output=/var/backups/faceaccess/site.fabackup',
    'Keep a copy of the key away from this machine: without it no backup can be read.',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({
    description: 'The file to write (default: tmp/backups/faceaccess-<time>.fabackup)',
  })
  declare output?: string

  @flags.string({ description: 'A file holding the backup key, instead of BACKUP_KEY' })
  declare keyFile?: string

  @inject()
  async run(backups: SiteBackup) {
    const key = await backups.key(this.keyFile)
    if (!key.ok) return this.#fail(key.error.message)
    const result = await backups.create(key.key, this.output)
    if (!result.ok) return this.#fail(result.error.message)
    const megabytes = (result.bytes / 1024 / 1024).toFixed(1)
    this.logger.success(
      `Backed up the database, .env and ${result.storageFiles} files of STORAGE_DIR into ${result.file} (${megabytes} MB)`
    )
  }

  #fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
