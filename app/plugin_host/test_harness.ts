import { readFile } from 'node:fs/promises'
import {
  defaultPluginTimeouts,
  type DecodedImage,
  type DriverFor,
  type PluginHealth,
  type PluginKind,
  type PluginLogger,
  type PluginTimeouts,
} from '#plugin-host/contracts'
import type { Plugin } from '#plugin-host/define_plugin'
import type { DoorEvent } from '#plugin-host/door_events'
import { PluginConfigError } from '#plugin-host/errors'
import { withTimeout } from '#plugin-host/timeout'

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  details: Record<string, unknown>
}

function recordingLogger(records: LogRecord[]): PluginLogger {
  const method =
    (level: LogRecord['level']) => (first: Record<string, unknown> | string, message?: string) => {
      records.push(
        typeof first === 'string'
          ? { level, message: first, details: {} }
          : { level, message: message ?? '', details: first }
      )
    }
  return {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
  }
}

export interface PluginHarness<Kind extends PluginKind, Config> {
  plugin: Plugin<Kind, Config>
  config: Config
  driver: DriverFor<Kind>
  /** Everything the driver logged, in order. */
  logs: LogRecord[]
  /** The door events the driver reported, in order. */
  reports: DoorEvent[]
  start(): Promise<void>
  stop(): Promise<void>
  health(): Promise<PluginHealth>
  /** One driver call under the plugin's call timeout, as the host makes it. */
  call<T>(work: (driver: DriverFor<Kind>) => Promise<T>): Promise<T>
}

/**
 * One instance of `plugin` outside the host, for a plugin's own tests and
 * the contract test: the config is validated by the plugin's schema (a
 * `PluginConfigError` if it does not pass), the logger and the door events
 * reported are recorded, and every call has the timeout the supervisor
 * would give it by default.
 */
export async function createPluginHarness<Kind extends PluginKind, Config>(
  plugin: Plugin<Kind, Config>,
  input: unknown,
  options: { instanceId?: string; timeouts?: Partial<PluginTimeouts> } = {}
): Promise<PluginHarness<Kind, Config>> {
  const parsed = await plugin.parseConfig(input)
  if (!parsed.ok) throw new PluginConfigError(plugin.id, parsed.issues)

  const instanceId = options.instanceId ?? `${plugin.id}-test`
  const timeouts = { ...defaultPluginTimeouts, ...plugin.timeouts, ...options.timeouts }
  const logs: LogRecord[] = []
  const reports: DoorEvent[] = []
  const driver = plugin.create({
    instanceId,
    config: parsed.config,
    logger: recordingLogger(logs),
    report: (event) => reports.push(event),
  })

  return {
    plugin,
    config: parsed.config,
    driver,
    logs,
    reports,
    start: () => withTimeout(`${instanceId} start`, timeouts.startMs, () => driver.start()),
    stop: () => withTimeout(`${instanceId} stop`, timeouts.stopMs, () => driver.stop()),
    health: () => withTimeout(`${instanceId} health`, timeouts.healthMs, () => driver.health()),
    call: (work) => withTimeout(`${instanceId} call`, timeouts.callMs, () => work(driver)),
  }
}

/**
 * A photo as the host hands it to an engine: upright 8-bit RGB, decoded
 * the way an uploaded photo is. For an engine's own tests, which feed it
 * fixture photos (`photo` is the file's bytes, or its path); bytes that
 * are no photo throw. The decoder is loaded on the first call, so that
 * the SDK stays light in the processes and engine workers that load it.
 */
export async function decodeImage(photo: Uint8Array | URL | string): Promise<DecodedImage> {
  const { ImageDecoder } = await import('#faces/image_decoder')
  const bytes = photo instanceof Uint8Array ? photo : await readFile(photo)
  const decoded = await new ImageDecoder().decode(bytes)
  if (!decoded.ok) throw new Error(decoded.error.message)
  return decoded.image
}
