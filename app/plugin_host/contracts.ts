/**
 * What the host and plugins agree on: the kinds of plugin, the lifecycle
 * every instance has, and the calls each kind answers. Plugins see these
 * types through `#plugin-sdk`.
 */

import type { DoorEvent } from '#plugin-host/door_events'

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
 * its own. `position` is what the driver knows: `unknown` when the
 * hardware cannot tell (a lock without a door sensor); `closesAt` is when
 * an open gate will close by itself.
 */
export interface GateState {
  position: 'open' | 'closed' | 'unknown'
  closesAt: Date | null
}

/**
 * The gates the admin pages open ("open door" on a device's page, whose
 * setting names the gate instance) and terminals will drive. `open`
 * resolves once the gate or its controller has taken the command (a relay
 * set, a Modbus write acknowledged), not when the door has moved; the gate
 * closes by itself after `durationMs`, timed by the driver or the
 * controller, never by the caller. Opening an open gate restarts its time.
 * A duration the gate cannot hold is refused with `PluginCommandError`;
 * any other error means the command was not carried out (the caller says
 * so), and a gate that does not answer within the call timeout is
 * restarted by the host.
 */
export interface GateDriver extends PluginLifecycle {
  open(options: { durationMs: number }): Promise<void>
  state(): Promise<GateState>
  /**
   * The door contact and exit button as read from the hardware now (not
   * the last poll), for a gate with inputs wired; an input not wired is
   * null. A gate without inputs leaves this out.
   */
  readInputs?(): Promise<GateInputs>
}

/** One wired input as read: whether it is active (door open, button pressed) and the raw reading. */
export interface GateInputReading {
  active: boolean
  raw: number
}

export interface GateInputs {
  door: GateInputReading | null
  exitButton: GateInputReading | null
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
 * A recognition engine: it finds faces in a decoded image and describes
 * them. Each engine implements some of the operations; its `capabilities`
 * say which. Every operation takes one decoded image, optionally with the
 * box of the face meant (as an earlier `detect` returned it, or as a
 * terminal sent it); without a box it works on the largest face.
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

/**
 * Tightly packed 8-bit RGB, row after row, upright (EXIF orientation
 * applied), as `#faces/image_decoder` returns it. The data may live in a
 * SharedArrayBuffer so that engine workers read it without a copy.
 */
export interface DecodedImage {
  width: number
  height: number
  data: Uint8Array
}

export interface EngineInput {
  image: DecodedImage
  face?: FaceBox
}

/**
 * The protocol's `angle` codes: the face's clockwise in-plane turn to the
 * nearest 30°. 1 = 0°, 2 = 90°, 3 = 270°, 4 = 180°, 5 = 30°, 6 = 60°,
 * 7 = 120°, 8 = 150°, 9 = 210°, 10 = 240°, 11 = 300°, 12 = 330°.
 */
export type AngleCode = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12

export type LandmarkPoint = [x: number, y: number]

export interface DetectedFace {
  /** In image pixels, around the face from forehead to chin. */
  box: FaceBox
  /** The detector's confidence, 0..1. */
  score: number
  /**
   * ArcFace order, as on the upright face: eye on the image's left, eye on
   * the image's right, nose tip, mouth corner left, mouth corner right.
   */
  landmarks: [LandmarkPoint, LandmarkPoint, LandmarkPoint, LandmarkPoint, LandmarkPoint]
  /** Clockwise in-plane turn of the face in degrees, [0, 360). */
  angle: number
  angleCode: AngleCode
  /**
   * How open each eye is (eye on the image's left, on its right), as the
   * eye aspect ratio: lid gap over eye width, 0.2 to 0.45 open depending on
   * the face, about half that shut, so a blink is read against the same
   * face's earlier frames. Engines without eyelid landmarks leave it out.
   */
  eyes?: { left: number; right: number }
  /**
   * Head pose in degrees: `yaw` > 0 turned towards the image's right,
   * `pitch` > 0 head bowed, `roll` the clockwise tilt of the eye line
   * (-180..180). For active liveness (a head turn) and guidance.
   */
  pose?: { yaw: number; pitch: number; roll: number }
}

/** An L2-normalised face descriptor and the model that made it. */
export interface FaceFeature {
  model: string
  vector: Float32Array
}

export type Gender = 'male' | 'female' | 'unknown'

export interface LivenessScores {
  /** Anti-spoofing classifier, 0..1: higher means a real face, not a photo or screen. */
  antispoof: number
  /** LivenessNet, 0..1: higher means a live face. */
  liveness: number
}

export type QualityIssueCode =
  'too_small' | 'cut_off' | 'turned' | 'tilted_up_down' | 'rolled' | 'blurred' | 'dark' | 'bright'

/** What is wrong with a face image, and what the person can do about it. */
export interface QualityIssue {
  code: QualityIssueCode
  message: string
}

export interface FaceQuality {
  /** 0..1, the weakest of the measures. */
  score: number
  acceptable: boolean
  issues: QualityIssue[]
  measures: Record<string, number>
}

/** A face cut out and warped to the 112×112 ArcFace template. */
export interface AlignedFace extends DecodedImage {
  width: 112
  height: 112
}

export type EngineFailure = { ok: false; error: { type: 'no_face' } }
export type EngineOutcome<Result> = ({ ok: true } & Result) | EngineFailure

export interface FaceAnalysisRequest {
  feature?: boolean
  /**
   * The recognition model for `feature`: one the engine can load besides
   * its own (the model the stored faces are in, while they are re-embedded
   * for a newly configured one); the engine's `embedder` when absent.
   */
  embedder?: string
  ageGender?: boolean
  liveness?: boolean
  quality?: boolean
  aligned?: boolean
}

/** Everything asked for about one face, from one pass over the image. */
export interface FaceAnalysis {
  face: DetectedFace
  feature?: FaceFeature
  age?: number
  gender?: Gender
  /** Probability of the model's "female" label, 0..1. */
  female?: number
  liveness?: LivenessScores
  quality?: FaceQuality
  aligned?: AlignedFace
  /** Milliseconds per stage, measured in the worker that ran it. */
  timings: Record<string, number>
}

export interface EngineDriver extends PluginLifecycle {
  readonly capabilities: readonly EngineCapability[]
  /** The recognition model `embed` and `analyse` use unless told another. */
  readonly embedder?: string
  /** Every face, largest first; `no_face` when there is none. */
  detect?(input: EngineInput): Promise<EngineOutcome<{ faces: DetectedFace[] }>>
  align?(input: EngineInput): Promise<EngineOutcome<{ face: DetectedFace; aligned: AlignedFace }>>
  embed?(
    input: EngineInput,
    embedder?: string
  ): Promise<EngineOutcome<{ face: DetectedFace; feature: FaceFeature }>>
  age?(input: EngineInput): Promise<EngineOutcome<{ face: DetectedFace; age: number }>>
  gender?(
    input: EngineInput
  ): Promise<EngineOutcome<{ face: DetectedFace; gender: Gender; female: number }>>
  liveness?(
    input: EngineInput
  ): Promise<EngineOutcome<{ face: DetectedFace; liveness: LivenessScores }>>
  quality?(input: EngineInput): Promise<EngineOutcome<{ face: DetectedFace; quality: FaceQuality }>>
  /** Several of the above for one face at once (enrolment), sharing detection and crops. */
  analyse?(input: EngineInput, request: FaceAnalysisRequest): Promise<EngineOutcome<FaceAnalysis>>
}

/**
 * How a model's cosine similarities become the scores that leave the
 * server: a monotone piecewise-linear map through `knots`
 * ([similarity, score] pairs, similarity ascending from -1 to 1). Made by
 * `npm run bench:calibrate` from faces-dev so that a score of 0.6, the
 * terminals' match threshold, sits at a false-accept rate of at most 1e-3.
 */
export interface ScoreCalibration {
  metric: 'cosine'
  knots: [similarity: number, score: number][]
  /** What the calibration was measured on, and the error rates at 0.6 there. */
  measured: {
    dataset: string
    genuinePairs: number
    impostorPairs: number
    similarityAtThreshold: number
    farAtThreshold: number
    frrAtThreshold: number
  }
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
  /**
   * Tells the app what the driver saw at its door (forced, held open, the
   * exit button, its bus silent); the app records it as an event of the
   * device whose Door setting names the instance. Never throws.
   */
  report(event: DoorEvent): void
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
  /** An image with one face the engine under test finds. */
  sampleInput(): Promise<EngineInput>
  /** An image with no face in it. */
  emptyInput(): Promise<EngineInput>
}

export interface PluginSimulators {
  light: LightSimulator
  gate: GateSimulator
  reader: ReaderSimulator
  engine: EngineSimulator
}

export type PluginSimulator<Kind extends PluginKind = PluginKind> = PluginSimulators[Kind]
