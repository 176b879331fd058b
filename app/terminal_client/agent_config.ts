import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'

export type AgentMode = 'auto' | 'online' | 'offline'
export type LivenessRequirement = 'none' | 'blink' | 'turn' | 'blink_or_turn'

/**
 * A terminal agent's configuration, from its JSON file (`terminal:run
 * --config`, else `TERMINAL_CONFIG`, else `config/terminal_agent.json`). The
 * credential is not kept here: pairing stores it in the agent's own
 * database, readable by the agent's user only.
 */
export type AgentConfig = {
  /** The site server, e.g. `https://10.0.0.5:3333`. */
  serverUrl: string
  deviceName: string
  serial: string
  /** Where the agent keeps its database and snapshots. */
  dataDir: string
  /**
   * `auto` recognises through the server while it answers and from the
   * synced database when it does not; `online` and `offline` hold to one.
   */
  mode: AgentMode
  camera: {
    /** `/dev/video0`, `rtsp://…`, a video file or a folder of images. */
    source: string
    fps: number
    /** A webcam's capture size, e.g. `1280x720`. */
    size?: string
    /** Frames are scaled down to fit this many pixels on their longer side. */
    maxSide: number
    /** A video file or folder starts again at its end (demonstrations, tests). */
    loop: boolean
  }
  /** The plugins file with this terminal's engine, gate, reader and light instances. */
  pluginsFile: string
  door: {
    gate?: string
    reader?: string
    light?: string
    /** How long a grant opens the gate. */
    openMs: number
    /** How long a card read waits for the face decision at a card-and-face door. */
    cardWindowMs: number
  }
  liveness: LivenessRequirement
  /** A decision waits this long at most for the server before deciding here (auto mode). */
  onlineTimeoutMs: number
  heartbeatSeconds: number
  kiosk: {
    /** The display's port on 127.0.0.1; 0 runs no display. */
    port: number
    /** Start Chromium in kiosk mode on the display. */
    browser: boolean
    language: 'en' | 'zh'
  }
  /** Bytes the stored snapshots may take before the oldest are shed. */
  snapshotBudgetBytes: number
}

export class AgentConfigError extends Error {}

type Json = Record<string, unknown>

function field<T>(
  source: Json,
  name: string,
  check: (value: unknown) => value is T,
  expected: string,
  fallback?: T
): T {
  const value = source[name]
  if (value === undefined && fallback !== undefined) return fallback
  if (!check(value)) throw new AgentConfigError(`"${name}" must be ${expected}`)
  return value
}

const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.trim().length > 0
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0
const isBool = (value: unknown): value is boolean => typeof value === 'boolean'
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (value: unknown): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value)
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Reads and checks the configuration; a missing or wrong field is an
 * `AgentConfigError` naming it. Relative paths are taken from the file's
 * folder.
 */
export function readAgentConfig(file: string): AgentConfig {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new AgentConfigError(`cannot read ${file}: ${(error as Error).message}`)
  }
  if (!isObject(parsed)) throw new AgentConfigError(`${file} must hold a JSON object`)
  try {
    return parseAgentConfig(parsed, dirname(resolve(file)))
  } catch (error) {
    if (error instanceof AgentConfigError) {
      throw new AgentConfigError(`${file}: ${error.message}`)
    }
    throw error
  }
}

export function parseAgentConfig(source: Json, baseDir: string): AgentConfig {
  const path = (value: string) => (isAbsolute(value) ? value : resolve(baseDir, value))
  const serverUrl = field(source, 'serverUrl', isText, 'the server URL, e.g. http://10.0.0.5:3333')
  let url: URL
  try {
    url = new URL(serverUrl)
  } catch {
    throw new AgentConfigError(`"serverUrl" is not a URL: ${serverUrl}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentConfigError('"serverUrl" must be http:// or https://')
  }
  const camera = field(source, 'camera', isObject, 'an object with the camera "source"')
  const door = field<Json>(source, 'door', isObject, 'an object', {})
  const kiosk = field<Json>(source, 'kiosk', isObject, 'an object', {})
  const optionalText = (from: Json, name: string) =>
    from[name] === undefined ? undefined : field(from, name, isText, 'a plugin instance id')
  return {
    serverUrl: url.toString().replace(/\/$/, ''),
    deviceName: field(source, 'deviceName', isText, "the device's name as the server knows it"),
    serial: field(source, 'serial', isText, "the device's serial number"),
    dataDir: path(field(source, 'dataDir', isText, 'a folder', 'terminal-data')),
    mode: field(
      source,
      'mode',
      oneOf(['auto', 'online', 'offline'] as const),
      'auto, online or offline',
      'auto'
    ),
    camera: {
      source: field(
        camera,
        'source',
        isText,
        'a camera: /dev/video0, rtsp://…, a file or a folder'
      ),
      fps: field(camera, 'fps', isCount, 'frames per second', 8),
      size: camera.size === undefined ? undefined : field(camera, 'size', isText, 'e.g. 1280x720'),
      maxSide: field(camera, 'maxSide', isCount, 'pixels', 640),
      loop: field(camera, 'loop', isBool, 'true or false', false),
    },
    pluginsFile: path(field(source, 'pluginsFile', isText, 'a plugins file', 'plugins.json')),
    door: {
      gate: optionalText(door, 'gate'),
      reader: optionalText(door, 'reader'),
      light: optionalText(door, 'light'),
      openMs: field(door, 'openMs', isCount, 'milliseconds', 3000),
      cardWindowMs: field(door, 'cardWindowMs', isCount, 'milliseconds', 10_000),
    },
    liveness: field(
      source,
      'liveness',
      oneOf(['none', 'blink', 'turn', 'blink_or_turn'] as const),
      'none, blink, turn or blink_or_turn',
      'blink_or_turn'
    ),
    onlineTimeoutMs: field(source, 'onlineTimeoutMs', isCount, 'milliseconds', 3000),
    heartbeatSeconds: field(source, 'heartbeatSeconds', isCount, 'seconds', 30),
    kiosk: {
      port: field(kiosk, 'port', isCount, 'a port, 0 for none', 8400),
      browser: field(kiosk, 'browser', isBool, 'true or false', false),
      language: field(kiosk, 'language', oneOf(['en', 'zh'] as const), 'en or zh', 'en'),
    },
    snapshotBudgetBytes: field(source, 'snapshotBudgetBytes', isCount, 'bytes', 512 * 1024 * 1024),
  }
}
