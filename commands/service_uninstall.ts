import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { systemUnitDir, terminalUnitName, unitMarker } from '#services/systemd_units'

const run = promisify(execFile)

/**
 * Stops and removes the units service:install wrote (the server's, the
 * worker's and the terminal agent's); units it did not write are left alone. The account and the
 * data (database, photos, .env) stay: removing the service is not
 * removing the site.
 */
export default class ServiceUninstall extends BaseCommand {
  static commandName = 'service:uninstall'
  static description = 'Stop and remove the systemd units service:install wrote; data stays'
  static options: CommandOptions = { startApp: false }

  @flags.string({ description: 'Unit name given to service:install', default: 'faceaccess' })
  declare name: string

  @flags.string({ description: 'Folder the units were written to', default: systemUnitDir })
  declare unitDir: string

  @flags.boolean({ description: 'Say what would be removed without changing anything' })
  declare dryRun: boolean

  async run() {
    const ours: string[] = []
    for (const fileName of [
      `${this.name}.service`,
      `${this.name}-worker.service`,
      terminalUnitName(this.name),
    ]) {
      const text = await readFile(join(this.unitDir, fileName), 'utf8').catch(() => null)
      if (text === null) continue
      if (text.startsWith(unitMarker)) ours.push(fileName)
      else
        this.logger.warning(
          `${join(this.unitDir, fileName)} was not written by service:install: left alone`
        )
    }
    if (ours.length === 0) {
      this.logger.info(`No unit of service:install named ${this.name} in ${this.unitDir}`)
      return
    }

    const managed = this.unitDir === systemUnitDir && existsSync('/run/systemd/system')
    const steps = [
      ...(managed
        ? [
            {
              says: `systemctl disable --now ${ours.join(' ')}`,
              does: () => run('systemctl', ['disable', '--now', ...ours]),
            },
          ]
        : []),
      ...ours.map((fileName) => ({
        says: `remove ${join(this.unitDir, fileName)}`,
        does: () => rm(join(this.unitDir, fileName)),
      })),
      ...(managed
        ? [{ says: 'systemctl daemon-reload', does: () => run('systemctl', ['daemon-reload']) }]
        : []),
    ]

    for (const step of steps) {
      if (this.dryRun) {
        this.logger.log(`  - ${step.says} (dry run)`)
        continue
      }
      this.logger.info(step.says)
      try {
        await step.does()
      } catch (error) {
        this.logger.error(`Stopped at "${step.says}": ${(error as Error).message}`)
        this.exitCode = 1
        return
      }
    }
    this.logger.log(
      'The account, .env, the database, STORAGE_DIR and the terminal agent data are kept; remove the account with "userdel <user>" once nothing needs it.'
    )
  }
}
