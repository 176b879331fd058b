import env from '#start/env'
import app from '@adonisjs/core/services/app'

/**
 * Backups: "node ace backup:create" and "node ace backup:restore".
 */
const backupConfig = {
  /**
   * The passphrase backups are encrypted with (or --key-file). Not the
   * APP_KEY: a backup is for the day the machine, and its .env, are gone,
   * so its key must be kept elsewhere as well (a password manager, a sealed
   * envelope), and it must stay the same when the APP_KEY is rotated.
   */
  key: env.get('BACKUP_KEY') || null,

  /** Where backup:create writes when given no --output: copy them off this machine. */
  folder: app.tmpPath('backups'),
}

export default backupConfig
