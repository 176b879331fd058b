import { inject } from '@adonisjs/core'
import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { SiteBackup } from '#services/backup/site_backup'

/**
 * Puts a backup back: the database and STORAGE_DIR are replaced by the
 * backup's, once the whole file has been read and checked.
 */
export default class BackupRestore extends BaseCommand {
  static commandName = 'backup:restore'
  static description = 'Replace the database and STORAGE_DIR with those of a backup'
  static help = [
    'Stop the server (and workers) first; then, from the install folder:',
    '  node ace backup:restore /var/backups/faceaccess/site.fabackup',
    '  node ace migration:run --force',
    'A wrong key or a damaged file is refused before anything is changed.',
  ]
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The backup file' })
  declare file: string

  @flags.string({ description: 'A file holding the backup key, instead of BACKUP_KEY' })
  declare keyFile?: string

  @inject()
  async run(backups: SiteBackup) {
    const key = await backups.key(this.keyFile)
    if (!key.ok) return this.#fail(key.error.message)
    const result = await backups.restore(this.file, key.key)
    if (!result.ok) return this.#fail(`${result.error.message}. Nothing was changed.`)
    this.logger.success(
      `Restored the database and ${result.storageFiles} files of STORAGE_DIR from the backup of ${result.manifest.createdAt}`
    )
    for (const warning of result.warnings) this.logger.warning(warning)
    this.logger.info(
      'Next: node ace migration:run --force (for a backup of an older version), then start the server.'
    )
  }

  #fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
