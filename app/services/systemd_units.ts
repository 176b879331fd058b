import { join } from 'node:path'

/** The folder systemd reads administrators' units from. */
export const systemUnitDir = '/etc/systemd/system'

/** The first line of every unit service:install writes; service:uninstall removes only these. */
export const unitMarker = '# Written by "node ace service:install"'

/** How the server runs as a systemd service on this machine. */
export type ServiceSettings = {
  /** Unit name: `<name>.service`, and `<name>-worker.service` for the worker. */
  name: string
  /** The system account the processes run as. */
  user: string
  /** The install folder (the output of "npm run build", with its node_modules). */
  appRoot: string
  /** Whether a separate job worker runs beside the server (QUEUE_WORKER=false). */
  worker: boolean
  /** Variables set before .env is read: the memory allocator (memory_allocator.ts). */
  environment?: Record<string, string>
}

/** How a terminal agent runs as a systemd service: `terminal:run` with its configuration. */
export type TerminalServiceSettings = Omit<ServiceSettings, 'worker'> & {
  /** The agent's configuration file (absolute). */
  configFile: string
  /** The agent's dataDir from that file: its database and snapshots, written by the agent alone. */
  dataDir: string
}

/** The unit name of a terminal agent installed under `name`. */
export function terminalUnitName(name: string) {
  return `${name}-terminal.service`
}

/**
 * Groups a terminal's account is given in its unit: `video` opens
 * /dev/video*, `dialout` the serial ports of gates and card readers.
 */
export const terminalGroups = ['video', 'dialout']

export type UnitFile = { fileName: string; text: string }

/** Names systemd and useradd both take as they are. */
const plainName = /^[a-z][a-z0-9-]{0,30}$/

/**
 * Characters a path may hold to be written into a unit as it is: no
 * spaces, quotes, `%` (systemd specifiers) or `$` (variable expansion).
 */
const plainPath = /^\/[A-Za-z0-9._+@/-]*$/

/** What is wrong with the settings for writing units; empty when nothing is. */
export function serviceSettingsProblems(settings: ServiceSettings | TerminalServiceSettings) {
  const problems: string[] = []
  if (!plainName.test(settings.name)) {
    problems.push(
      `--name "${settings.name}" is not a plain name: lowercase letters, digits and dashes, starting with a letter`
    )
  }
  if (!plainName.test(settings.user)) {
    problems.push(
      `--user "${settings.user}" is not a plain account name: lowercase letters, digits and dashes, starting with a letter`
    )
  }
  if (!plainPath.test(settings.appRoot)) {
    problems.push(
      `The install folder ${settings.appRoot} has spaces or special characters, which unit files would need quoted: install it under a plain path such as /opt/faceaccess`
    )
  }
  return problems
}

/** What is wrong with a terminal agent's settings for writing its unit; empty when nothing is. */
export function terminalSettingsProblems(settings: TerminalServiceSettings) {
  const problems = serviceSettingsProblems(settings)
  for (const [what, path] of [
    ['configuration file', settings.configFile],
    ["agent's dataDir", settings.dataDir],
  ]) {
    if (!plainPath.test(path)) {
      problems.push(
        `The ${what} ${path} has spaces or special characters, which the unit would need quoted: use a plain path such as /etc/faceaccess/terminal.json`
      )
    }
  }
  return problems
}

/**
 * The systemd units that run the server, and the job worker when it runs
 * on its own: as `user`, from the install folder, with the install's .env
 * as environment, on the Node 24 that npm installed beside the app
 * (`node_modules/.bin/node`, whatever node the system has), logging to
 * journald and restarted after a crash.
 */
export function serviceUnits(settings: ServiceSettings): UnitFile[] {
  const node = join(settings.appRoot, 'node_modules/.bin/node')
  const units = [
    {
      fileName: `${settings.name}.service`,
      text: unit(settings, {
        description: `FaceAccess server (${settings.appRoot})`,
        execStart: `${node} bin/server.js`,
        identifier: settings.name,
        stopTimeout: 30,
        after: serverAfter,
        environmentFile: join(settings.appRoot, '.env'),
        restart: 'on-failure',
      }),
    },
  ]
  if (settings.worker) {
    units.push({
      fileName: `${settings.name}-worker.service`,
      text: unit(settings, {
        description: `FaceAccess job worker (${settings.appRoot})`,
        execStart: `${node} ace.js queue:work`,
        identifier: `${settings.name}-worker`,
        stopTimeout: 120,
        after: serverAfter,
        environmentFile: join(settings.appRoot, '.env'),
        restart: 'on-failure',
      }),
    })
  }
  return units
}

/**
 * The unit of a terminal agent: `terminal:run --config <file>` as `user`,
 * restarted whenever it ends, so that the exit code 75 of an operator's
 * "Restart agent" starts it again. It needs no .env (one beside the
 * install is read when there is one, e.g. for LOG_LEVEL); its account
 * is in the `video` and `dialout` groups for the camera and the serial
 * gates and readers, and the hardening leaves /dev and /sys as they are
 * so that cameras, serial ports and /sys/class/leds stay reachable.
 */
export function terminalUnit(settings: TerminalServiceSettings): UnitFile {
  const node = join(settings.appRoot, 'node_modules/.bin/node')
  return {
    fileName: terminalUnitName(settings.name),
    text: unit(settings, {
      description: `FaceAccess terminal agent (${settings.configFile})`,
      execStart: `${node} ace.js terminal:run --config ${settings.configFile}`,
      identifier: `${settings.name}-terminal`,
      stopTimeout: 15,
      after: '',
      environmentFile: `-${join(settings.appRoot, '.env')}`,
      restart: 'always',
      extra: [
        `SupplementaryGroups=${terminalGroups.join(' ')}`,
        `ReadWritePaths=${settings.dataDir}`,
      ],
    }),
  }
}

/** The server and the worker start after the services they use on the same machine. */
const serverAfter = ' redis-server.service postgresql.service'

type UnitParts = {
  description: string
  execStart: string
  identifier: string
  /** Seconds between SIGTERM and SIGKILL: requests, or jobs, in flight finish meanwhile. */
  stopTimeout: number
  /** Units started before this one, besides the network. */
  after: string
  /** `-` first: read when it is there. */
  environmentFile: string
  restart: 'on-failure' | 'always'
  /** Lines added to [Service]. */
  extra?: string[]
}

function unit(settings: Omit<ServiceSettings, 'worker'>, parts: UnitParts) {
  return `${unitMarker} in ${settings.appRoot}; "node ace service:uninstall" removes it.
[Unit]
Description=${parts.description}
Wants=network-online.target
After=network-online.target${parts.after}

[Service]
Type=simple
User=${settings.user}
Group=${settings.user}
WorkingDirectory=${settings.appRoot}
${Object.entries(settings.environment ?? {})
  .map(([name, value]) => `Environment=${name}=${value}\n`)
  .join('')}EnvironmentFile=${parts.environmentFile}
ExecStart=${parts.execStart}
Restart=${parts.restart}
RestartSec=5
TimeoutStopSec=${parts.stopTimeout}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=${parts.identifier}
UMask=0077
LimitNOFILE=65536
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=full
${(parts.extra ?? []).map((line) => `${line}\n`).join('')}
[Install]
WantedBy=multi-user.target
`
}
