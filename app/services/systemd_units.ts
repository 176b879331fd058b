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

export type UnitFile = { fileName: string; text: string }

/** Names systemd and useradd both take as they are. */
const plainName = /^[a-z][a-z0-9-]{0,30}$/

/**
 * Characters a path may hold to be written into a unit as it is: no
 * spaces, quotes, `%` (systemd specifiers) or `$` (variable expansion).
 */
const plainPath = /^\/[A-Za-z0-9._+@/-]*$/

/** What is wrong with the settings for writing units; empty when nothing is. */
export function serviceSettingsProblems(settings: ServiceSettings) {
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
      }),
    })
  }
  return units
}

type UnitParts = {
  description: string
  execStart: string
  identifier: string
  /** Seconds between SIGTERM and SIGKILL: requests, or jobs, in flight finish meanwhile. */
  stopTimeout: number
}

function unit(settings: ServiceSettings, parts: UnitParts) {
  return `${unitMarker} in ${settings.appRoot}; "node ace service:uninstall" removes it.
[Unit]
Description=${parts.description}
Wants=network-online.target
After=network-online.target redis-server.service postgresql.service

[Service]
Type=simple
User=${settings.user}
Group=${settings.user}
WorkingDirectory=${settings.appRoot}
${Object.entries(settings.environment ?? {})
  .map(([name, value]) => `Environment=${name}=${value}\n`)
  .join('')}EnvironmentFile=${join(settings.appRoot, '.env')}
ExecStart=${parts.execStart}
Restart=on-failure
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

[Install]
WantedBy=multi-user.target
`
}
