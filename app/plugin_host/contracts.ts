/**
 * What the host and plugins agree on: the kinds of plugin, the lifecycle
 * every instance has, and the calls each kind answers. Plugins see these
 * types through `#plugin-sdk`.
 */

export const pluginKinds = ['engine', 'gate', 'reader', 'light'] as const
export type PluginKind = (typeof pluginKinds)[number]

/**
 * How long the host waits for each call before it gives up on the instance.
 * A plugin may raise its own (an engine that loads models starts slowly).
 */
export interface PluginTimeouts {
  startMs: number
  stopMs: number
  healthMs: number
  callMs: number
}

export const defaultPluginTimeouts: PluginTimeouts = {
  startMs: 10_000,
  stopMs: 5_000,
  healthMs: 3_000,
  callMs: 5_000,
}

/**
 * What an instance says about itself. "warning" keeps it running; "error"
 * makes the host restart it.
 */
export interface PluginHealth {
  status: 'ok' | 'warning' | 'error'
  message?: string
  details?: Record<string, unknown>
}

/**
 * Every instance: `start()` opens ports and loads models (never the
 * constructor), `stop()` releases them, and `start()` may be called again
 * after `stop()` or after a failed start, so the host can restart it.
 */
export interface PluginLifecycle {
  start(): Promise<void>
  stop(): Promise<void>
  health(): Promise<PluginHealth>
}

/**
 * A fill light or indicator. `level` is the brightness in percent, kept
 * while the light is off so that switching it on restores it; `color` is
 * `#rrggbb`, or null for a white-only light.
 */
export interface LightCommand {
  on: boolean
  level?: number
  color?: string
}

export interface LightState {
  on: boolean
  level: number
  color: string | null
}

export interface LightDriver extends PluginLifecycle {
  set(command: LightCommand): Promise<void>
  state(): Promise<LightState>
}

/**
 * A turnstile, barrier or door lock that opens for a while and closes on
 * its own.
 */
export interface GateState {
  position: 'open' | 'closed' | 'unknown'
  closesAt: Date | null
}

export interface GateDriver extends PluginLifecycle {
  open(options: { durationMs: number }): Promise<void>
  state(): Promise<GateState>
}

/**
 * A card reader. `uid` is the card's UID in uppercase hexadecimal, without
 * separators, as the people pages store card numbers.
 */
export interface CardRead {
  uid: string
  at: Date
}

export interface ReaderDriver extends PluginLifecycle {
  /**
   * Cards presented from now on, while the instance runs, until `signal`
   * aborts. Several consumers may iterate at once.
   */
  reads(signal?: AbortSignal): AsyncIterable<CardRead>
}

/**
 * A recognition engine. Each engine implements some of the operations; its
 * `capabilities` say which. Inputs and outputs stay loose until the ONNX
 * engines fix them.
 */
export const engineCapabilities = [
  'detect',
  'align',
  'embed',
  'age',
  'gender',
  'liveness',
  'quality',
] as const
export type EngineCapability = (typeof engineCapabilities)[number]

export interface FaceBox {
  left: number
  top: number
  right: number
  bottom: number
}

export interface EngineInput {
  image: Uint8Array
  face?: FaceBox
  [option: string]: unknown
}

export type EngineOperation = (input: EngineInput) => Promise<unknown>

export interface EngineDriver
  extends PluginLifecycle, Partial<Record<EngineCapability, EngineOperation>> {
  readonly capabilities: readonly EngineCapability[]
}

export interface PluginDrivers {
  engine: EngineDriver
  gate: GateDriver
  reader: ReaderDriver
  light: LightDriver
}

export type DriverFor<Kind extends PluginKind> = PluginDrivers[Kind]

/**
 * The logger a plugin gets, already bound to its instance: the app's
 * logger in the server, a recording one in tests.
 */
export interface PluginLogger {
  debug(details: Record<string, unknown>, message: string): void
  debug(message: string): void
  info(details: Record<string, unknown>, message: string): void
  info(message: string): void
  warn(details: Record<string, unknown>, message: string): void
  warn(message: string): void
  error(details: Record<string, unknown>, message: string): void
  error(message: string): void
}

export interface PluginContext<Config> {
  instanceId: string
  config: Config
  logger: PluginLogger
}

/**
 * The peer a plugin is tested against, in `plugins/<folder>/simulator.ts`
 * (default export, a class with no constructor arguments). `start()` brings
 * the peer up and returns the config (as it would appear in the plugins
 * file) that points an instance at it.
 */
export interface SimulatorBase {
  readonly invalidConfigs: unknown[]
  start(): Promise<Record<string, unknown>>
  stop(): Promise<void>
}

/**
 * What each kind of peer lets a test observe or do: the light it shows,
 * the gate's position, a card held to the reader, a sample image.
 */
export interface LightSimulator extends SimulatorBase {
  observedLight(): Promise<LightState | null>
}

export interface GateSimulator extends SimulatorBase {
  observedGate(): Promise<GateState['position']>
}

export interface ReaderSimulator extends SimulatorBase {
  presentCard(uid: string): Promise<void>
}

export interface EngineSimulator extends SimulatorBase {
  sampleInput(): Promise<EngineInput>
}

export interface PluginSimulators {
  light: LightSimulator
  gate: GateSimulator
  reader: ReaderSimulator
  engine: EngineSimulator
}

export type PluginSimulator<Kind extends PluginKind = PluginKind> = PluginSimulators[Kind]
