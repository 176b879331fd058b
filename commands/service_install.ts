import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { allocatorEnvironment } from '#services/memory_allocator'
import {
  serviceSettingsProblems,
  serviceUnits,
  systemUnitDir,
  terminalGroups,
  terminalSettingsProblems,
  terminalUnit,
  unitMarker,
  type ServiceSettings,
  type TerminalServiceSettings,
  type UnitFile,
} from '#services/systemd_units'
import { AgentConfigError, readAgentConfig, type AgentConfig } from '#terminal-client/agent_config'

const run = promisify(execFile)

/** One thing the install does to the machine, said before it is done. */
type Step = { says: string; does: () => Promise<unknown> }

/**
 * Installs the production build this command runs from as a systemd
 * service on Debian: a system account of its own, the data folders (the
 * database's tmp/ and STORAGE_DIR) owned by it alone, the server's unit
 * and, when the job worker does not run inside the server (QUEUE_WORKER=
 * false), the worker's; then enables and starts them. With --terminal it
 * installs a terminal agent instead: only its unit, its account and its
 * dataDir, without the server's .env.
 */
export default class ServiceInstall extends BaseCommand {
  static commandName = 'service:install'
  static description = 'Run this install as a systemd service: account, owner-only data, units'
  static help = [
    'Run as root from the install folder (the output of "npm run build", after npm ci):',
    '  node ace service:install',
    '  node ace service:install --dry-run     prints the units and steps, changes nothing',
    "The units run node_modules/.bin/node (Node 24) with the install's .env, log to journald",
    '("journalctl -u faceaccess") and restart after a crash.',
    'On a terminal, the agent alone (<name>-terminal.service, restarted whenever it ends):',
    '  node ace service:install --terminal=/etc/faceaccess/terminal.json',
  ]
  /**
   * The app is started for the server's units only: a terminal has no
   * .env, which starting the app would require.
   */
  static options: CommandOptions = { startApp: false }

  @flags.string({
    description: 'System account to run as, created if missing',
    default: 'faceaccess',
  })
  declare user: string

  @flags.string({
    description: 'Unit name (<name>.service, <name>-worker.service)',
    default: 'faceaccess',
  })
  declare name: string

  @flags.boolean({ description: 'Also install the job worker (default: when QUEUE_WORKER=false)' })
  declare worker?: boolean

  @flags.string({ description: 'Folder the units are written to', default: systemUnitDir })
  declare unitDir: string

  @flags.boolean({ description: 'Print the units and the steps without changing anything' })
  declare dryRun: boolean

  @flags.string({
    description: 'Install the terminal agent with this configuration file instead of the server',
  })
  declare terminal?: string

  async run() {
    if (this.terminal !== undefined) return this.#installTerminal(this.terminal)
    if (!this.app.isReady) {
      await this.app.boot()
      await this.app.start(() => {})
    }
    const appRoot = resolve(this.app.makePath())
    const settings: ServiceSettings = {
      name: this.name,
      user: this.user,
      appRoot,
      worker: this.worker ?? !this.app.config.get<boolean>('queue.workerInWebProcess', true),
      environment: allocatorEnvironment(),
    }
    const invalid = serviceSettingsProblems(settings)
    if (invalid.length > 0) return this.#refuse(invalid)
    const units = serviceUnits(settings)
    const existing = await this.#existingUnits(units)
    const problems = [
      ...this.#installProblems(),
      ...this.#envProblems(),
      ...this.#foreignUnits(existing),
    ]
    await this.#carryOut(units, problems, [
      ...(await this.#accountSteps()),
      ...this.#dataSteps(),
      ...this.#unitSteps(units, existing),
      ...this.#startSteps(units.map((unit) => unit.fileName)),
    ])
  }

  /**
   * A terminal agent: its unit, its account (in the camera's and serial
   * ports' groups through the unit) and its dataDir; the configuration is
   * read and checked first, so that a unit is never written for a file
   * the agent would refuse.
   */
  async #installTerminal(file: string) {
    const configFile = resolve(file)
    let config: AgentConfig
    try {
      config = readAgentConfig(configFile)
    } catch (error) {
      if (!(error instanceof AgentConfigError)) throw error
      return this.#refuse([
        `${error.message}: fix the configuration (see config/terminal_agent.example.json) before installing the agent`,
      ])
    }
    const { dataDir, pluginsFile } = config
    const settings: TerminalServiceSettings = {
      name: this.name,
      user: this.user,
      appRoot: resolve(this.app.makePath()),
      configFile,
      dataDir,
      environment: allocatorEnvironment(),
    }
    const invalid = terminalSettingsProblems(settings)
    if (invalid.length > 0) return this.#refuse(invalid)
    const units = [terminalUnit(settings)]
    const existing = await this.#existingUnits(units)
    const problems = [
      ...this.#installProblems(),
      ...(await this.#groupProblems()),
      ...this.#foreignUnits(existing),
    ]
    await this.#carryOut(units, problems, [
      ...(await this.#accountSteps()),
      {
        says: `make ${dataDir} the account's alone: chown -R ${this.user}:${this.user}, chmod 700`,
        does: async () => {
          await mkdir(dataDir, { recursive: true })
          await run('chown', ['-R', `${this.user}:${this.user}`, dataDir])
          await chmod(dataDir, 0o700)
        },
      },
      {
        says: `check that ${this.user} can read the install, ${configFile} and its plugins file, and write ${dataDir}`,
        does: () =>
          this.#checkAccess([
            ['-r', this.app.makePath('ace.js')],
            ['-r', configFile],
            ['-r', pluginsFile],
            ['-w', dataDir],
          ]),
      },
      ...this.#unitSteps(units, existing),
      ...this.#startSteps(units.map((unit) => unit.fileName)),
    ])
  }

  /** Prints the units and the steps in a dry run, else takes the steps; problems stop a real run. */
  async #carryOut(units: UnitFile[], problems: string[], steps: Step[]) {
    if (problems.length > 0 && !this.dryRun) return this.#refuse(problems)
    for (const problem of problems) this.logger.warning(`${problem} (dry run: going on)`)

    if (this.dryRun) {
      for (const unit of units) {
        this.logger.log(`# ${join(this.unitDir, unit.fileName)}\n${unit.text}`)
      }
      this.logger.log('Steps (dry run, nothing changed):')
      for (const step of steps) this.logger.log(`  - ${step.says}`)
      return
    }

    for (const step of steps) {
      this.logger.info(step.says)
      try {
        await step.does()
      } catch (error) {
        return this.#refuse([`Stopped at "${step.says}": ${(error as Error).message}`])
      }
    }
    this.logger.success(
      `${units.map((unit) => unit.fileName).join(' and ')} installed. Logs: journalctl -u ${units[0].fileName.replace(/\.service$/, '')} -f`
    )
    this.logger.log(
      `Run node ace as the service's account, so that what it writes stays the service's: runuser -u ${this.user} -- node_modules/.bin/node ace <command>`
    )
  }

  /** What stops a real install: not root, not a production build. */
  #installProblems() {
    const problems: string[] = []
    if (process.getuid?.() !== 0) {
      problems.push(
        'service:install creates an account, changes owners and writes units: run it as root'
      )
    }
    if (!existsSync(this.app.makePath('bin/server.js'))) {
      problems.push(
        `${resolve(this.app.makePath())} is not a production build (no bin/server.js): run this from the folder "npm run build" made, after npm ci --omit=dev there`
      )
    }
    return problems
  }

  /** The server's units need the install's .env. */
  #envProblems() {
    const problems: string[] = []
    if (!existsSync(this.app.makePath('.env'))) {
      problems.push(
        'There is no .env here: install -m 600 .env.production.example .env, then set APP_KEY, APP_URL, Redis and the database'
      )
    }
    return problems
  }

  /** A unit naming a group the machine lacks does not start (status 216/GROUP). */
  async #groupProblems() {
    const problems: string[] = []
    for (const group of terminalGroups) {
      const exists = await run('getent', ['group', group]).then(
        () => true,
        () => false
      )
      if (!exists) {
        problems.push(
          `There is no group ${group} on this machine, which the agent's unit joins to reach its devices: groupadd --system ${group}`
        )
      }
    }
    return problems
  }

  async #accountSteps(): Promise<Step[]> {
    const exists = await run('getent', ['passwd', this.user]).then(
      () => true,
      () => false
    )
    if (exists) return [{ says: `use the existing account ${this.user}`, does: async () => {} }]
    const args = [
      '--system',
      '--user-group',
      '--home-dir',
      resolve(this.app.makePath()),
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      this.user,
    ]
    return [
      {
        says: `create the system account: useradd ${args.join(' ')}`,
        does: () => run('useradd', args),
      },
    ]
  }

  /**
   * The database folder and STORAGE_DIR belong to the account alone; the
   * code stays root's, so the service cannot change what it runs. The .env
   * is root's and readable by the account's group.
   */
  #dataSteps(): Step[] {
    const tmp = this.app.tmpPath()
    const storage = this.app.config.get<string>('terminal.storageDir')
    const inside = !relative(tmp, storage).startsWith('..')
    const folders = inside ? [tmp] : [tmp, storage]
    const owner = `${this.user}:${this.user}`
    const env = this.app.makePath('.env')
    return [
      ...folders.map((folder) => ({
        says: `make ${folder} the account's alone: chown -R ${owner}, chmod 700`,
        does: async () => {
          await mkdir(folder, { recursive: true })
          await run('chown', ['-R', owner, folder])
          await chmod(folder, 0o700)
        },
      })),
      {
        says: `let the account read .env, and no other account: chown root:${this.user}, chmod 640 ${env}`,
        does: async () => {
          await run('chown', [`root:${this.user}`, env])
          await chmod(env, 0o640)
        },
      },
      {
        says: `check that ${this.user} can read the install and write its data`,
        does: () =>
          this.#checkAccess([
            ['-r', this.app.makePath('bin/server.js')],
            ['-r', this.app.makePath('.env')],
            ...folders.map((folder) => ['-w', folder]),
          ]),
      },
    ]
  }

  async #checkAccess(checks: string[][]) {
    for (const [test, path] of checks) {
      const ok = await run('runuser', ['-u', this.user, '--', 'test', test, path]).then(
        () => true,
        () => false
      )
      if (!ok) {
        throw new Error(
          `${this.user} cannot ${test === '-r' ? 'read' : 'write'} ${path}: a folder above it is private (under /root or a home folder?). Install under /opt, e.g. cp -a build /opt/faceaccess`
        )
      }
    }
  }

  /** The unit files already in the unit folder, by name, with their text. */
  async #existingUnits(units: UnitFile[]) {
    const existing = new Map<string, string>()
    for (const unit of units) {
      const text = await readFile(join(this.unitDir, unit.fileName), 'utf8').catch(() => null)
      if (text !== null) existing.set(unit.fileName, text)
    }
    return existing
  }

  #foreignUnits(existing: Map<string, string>) {
    return [...existing]
      .filter(([, text]) => !text.startsWith(unitMarker))
      .map(
        ([fileName]) =>
          `${join(this.unitDir, fileName)} exists and was not written by service:install: it is left alone (choose another --name)`
      )
  }

  #unitSteps(units: UnitFile[], existing: Map<string, string>): Step[] {
    return units.map((unit) => {
      const path = join(this.unitDir, unit.fileName)
      return {
        says: `${existing.has(unit.fileName) ? 'rewrite' : 'write'} ${path}`,
        does: async () => {
          await mkdir(this.unitDir, { recursive: true })
          await writeFile(path, unit.text, { mode: 0o644 })
        },
      }
    })
  }

  /**
   * systemd reads units from its own folder; units written elsewhere (to
   * be copied by a deployment tool) are left for the administrator to
   * enable, as they are on a machine that does not run systemd.
   */
  #startSteps(unitNames: string[]): Step[] {
    const systemdRuns = existsSync('/run/systemd/system')
    if (this.unitDir !== systemUnitDir || !systemdRuns) {
      return [
        {
          says: `then, where systemd runs: systemctl daemon-reload && systemctl enable --now ${unitNames.join(' ')}`,
          does: async () => {},
        },
      ]
    }
    return [
      { says: 'systemctl daemon-reload', does: () => run('systemctl', ['daemon-reload']) },
      {
        says: `systemctl enable --now ${unitNames.join(' ')}`,
        does: () => run('systemctl', ['enable', '--now', ...unitNames]),
      },
    ]
  }

  #refuse(problems: string[]) {
    for (const problem of problems) this.logger.error(problem)
    this.exitCode = 1
  }
}
