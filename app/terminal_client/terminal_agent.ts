import { EventEmitter } from 'node:events'
import sharp from 'sharp'
import type { Logger } from '@adonisjs/core/logger'
import type { PluginHost } from '#plugin-host/plugin_host'
import type {
  DecodedImage,
  EngineDriver,
  FaceAnalysis,
  GateDriver,
  LightDriver,
  ReaderDriver,
} from '#plugin-sdk'
import type { AgentConfig } from '#terminal-client/agent_config'
import type {
  AgentCommand,
  AgentHeartbeat,
  ConnectionState,
  EnrolmentOutcome,
  KioskState,
  PartHealth,
  PassageReason,
  PassageResult,
} from '#terminal-client/agent_contracts'
import type { AgentOutbox } from '#terminal-client/agent_outbox'
import type { CameraFrame, CameraHealth } from '#terminal-client/camera/camera_source'
import { FrameGate } from '#terminal-client/camera/frame_gate'
import {
  FacesApiClient,
  type DeviceIdentity,
  type FacesApiAnswer,
} from '#terminal-client/faces_api_client'
import type { FaceSync } from '#terminal-client/offline/face_sync'
import type { OfflineDecider } from '#terminal-client/offline/offline_decider'
import type { FillLight } from '#terminal-client/recognition/fill_light'
import { analyseFrame } from '#terminal-client/recognition/frame_analysis'
import type { PassageReady, PassageTracker } from '#terminal-client/recognition/passage_tracker'

export type Verdict = {
  decision: 'granted' | 'denied'
  reason: PassageReason
  username?: string | null
  name?: string | null
  score: number | null
}

export interface KioskDisplay {
  update(state: Partial<KioskState>): void
  frame(image: DecodedImage): void
  personPhoto?(key: string, jpeg: Uint8Array): void
}

export interface CameraFeed extends AsyncIterable<CameraFrame> {
  health(): CameraHealth
  stop(): Promise<void>
}

export type AgentParts = {
  config: AgentConfig
  device: DeviceIdentity
  host: PluginHost
  camera: CameraFeed
  tracker: PassageTracker<DecodedImage>
  fillLight: FillLight
  offline: OfflineDecider
  /** Absent in online-only mode, which never decides here. */
  sync: FaceSync | null
  outbox: AgentOutbox
  kiosk?: KioskDisplay
  logger: Logger
  fetch?: typeof fetch
  now?: () => number
}

export type AgentEvents = {
  decided: [PassageResult & { username?: string | null; score: number | null }]
  enrolment: [{ username: string; outcome: EnrolmentOutcome; message?: string }]
  restart: []
  connection: [ConnectionState]
}

/** Codes of an answer that mean "the server cannot decide now": decide here instead. */
const serverUnavailable = new Set([3, 8, 9007])

/** A regFace call's time limit: the server reads the photo with its engine. */
const enrolmentCallMs = 30_000

/** Enrolment mode: the person to enrol from the next good face, and how it ends. */
type Enrolment = {
  username: string
  name: string
  attempting: boolean
  finish: (outcome: EnrolmentOutcome, message?: string) => void
}

/**
 * The terminal at the door: camera frames through the frame gate to the
 * engine while something moves, the passage tracker deciding when a face
 * is good, live and confirmed, then one decision per passage — by the
 * server (`faceIdentify`, which records the event) while it answers, else
 * from the synced database (stored first, then reported with
 * `clinetFeedback`) — driving the gate, the light and the display the same
 * way in both modes. On an operator's `enrol` command the next good face
 * is not decided but enrolled for the person named (`regFace`), with the
 * door shut.
 */
export class TerminalAgent extends EventEmitter<AgentEvents> {
  /** How long enrolment mode waits for a good face. */
  static enrolmentWaitMs = 60_000

  #parts: AgentParts
  #client: FacesApiClient
  #gate = new FrameGate()
  #connection: ConnectionState = 'connecting'
  #stopped = new AbortController()
  #loop: Promise<void> | null = null
  #deciding: Promise<void> = Promise.resolve()
  #card: { uid: string; at: number } | null = null
  #lightOn = false
  #showingResult = false
  #doorLightUntil = 0
  #probe: NodeJS.Timeout | null = null
  #enrolment: Enrolment | null = null
  #enrolments: Promise<unknown> = Promise.resolve()
  #now: () => number

  constructor(parts: AgentParts) {
    super()
    this.#parts = parts
    this.#now = parts.now ?? Date.now
    this.#client = new FacesApiClient(parts.config.serverUrl, parts.device, {
      fetch: parts.fetch,
    })
    if (parts.config.mode === 'offline') this.#connection = 'offline'
  }

  get connection() {
    return this.#connection
  }

  start() {
    this.#parts.kiosk?.update({
      deviceName: this.#parts.config.deviceName,
      serial: this.#parts.config.serial,
      connection: this.#connection,
      language: this.#parts.config.kiosk.language,
      backlog: 0,
    })
    this.#followReader()
    this.#loop = this.#run().catch((error) =>
      this.#parts.logger.error({ err: error }, 'the camera loop stopped')
    )
    if (this.#parts.config.mode !== 'offline') this.#scheduleProbe(0)
  }

  async stop() {
    this.#stopped.abort()
    if (this.#probe) clearTimeout(this.#probe)
    this.#enrolment?.finish('timed_out')
    await this.#parts.camera.stop()
    await this.#loop
    await this.#deciding
  }

  /** What the heartbeat reports. */
  async heartbeat(): Promise<AgentHeartbeat> {
    const outbox = this.#parts.outbox.health()
    const camera = this.#parts.camera.health()
    return {
      mode: this.#connection === 'online' ? 'online' : 'offline',
      backlog: outbox.backlog,
      oldestUnsentAgeMs: outbox.oldestUnsentAgeMs,
      shedSnapshots: outbox.shedSnapshots,
      revision: this.#parts.sync?.revision ?? 0,
      camera:
        camera.state === 'running'
          ? { state: 'ok' }
          : { state: 'fault', detail: camera.lastError ?? camera.state },
      gate: this.#partHealth(this.#parts.config.door.gate),
      reader: this.#partHealth(this.#parts.config.door.reader),
      light: this.#partHealth(this.#parts.config.door.light),
      commandsDone: [],
      version: '1',
    }
  }

  /** Carries out what an operator asked of this terminal on its Devices page. */
  async command(command: AgentCommand) {
    this.#parts.logger.info({ command }, 'command from the server')
    if (command.type === 'open_door') await this.#openDoor()
    if (command.type === 'sync_now') {
      await this.#parts.sync
        ?.syncNow()
        .catch((error) => this.#parts.logger.warn({ err: error }, 'sync now failed'))
    }
    if (command.type === 'restart') this.emit('restart')
    if (command.type === 'enrol') {
      const { username, name } = command
      if (!username || !name) {
        this.#parts.logger.warn({ command }, 'an enrol command without its person is ignored')
        return
      }
      const attempt = this.#enrolments.then(() => this.#enrolmentMode(username, name))
      this.#enrolments = attempt
      await attempt
    }
  }

  /**
   * Enrolment mode for one person: the display names them and guides as
   * for a passage; it ends with the attempt on the next good face, or
   * after `TerminalAgent.enrolmentWaitMs` without one.
   */
  #enrolmentMode(username: string, name: string): Promise<EnrolmentOutcome> {
    if (this.#stopped.signal.aborted) return Promise.resolve('timed_out')
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#enrolment === enrolment && !enrolment.attempting) enrolment.finish('timed_out')
      }, TerminalAgent.enrolmentWaitMs)
      const enrolment: Enrolment = {
        username,
        name,
        attempting: false,
        finish: (outcome, message) => {
          clearTimeout(timer)
          if (this.#enrolment === enrolment) this.#enrolment = null
          this.#parts.logger.info({ username, outcome, message }, 'enrolment at the terminal')
          this.#showingResult = true
          this.#parts.kiosk?.update({ enrolment: { name, outcome }, result: undefined })
          this.emit('enrolment', { username, outcome, message })
          resolve(outcome)
        },
      }
      this.#enrolment = enrolment
      // Someone already decided in front of the camera is followed afresh: it may be them.
      this.#parts.tracker.retry()
      this.#showingResult = false
      this.#parts.kiosk?.update({ enrolment: { name }, result: undefined })
    })
  }

  /** The server answered a call: decide through it again (auto mode). */
  serverAnswered() {
    if (this.#parts.config.mode === 'offline') return
    this.#setConnection('online')
  }

  /** The server did not answer: decide here (auto mode). */
  serverUnreachable() {
    if (this.#parts.config.mode === 'online') return
    this.#setConnection('offline')
  }

  #partHealth(instanceId: string | undefined): PartHealth {
    if (!instanceId) return { state: 'absent' }
    const instance = this.#parts.host.instance(instanceId)
    if (!instance) return { state: 'fault', detail: `no plugin instance ${instanceId}` }
    return instance.state === 'running'
      ? { state: 'ok' }
      : { state: 'fault', detail: instance.status().lastError?.message ?? instance.state }
  }

  #setConnection(state: ConnectionState) {
    if (this.#connection === state) return
    this.#connection = state
    this.#parts.logger.info(`connection: ${state}`)
    this.#parts.kiosk?.update({ connection: state })
    this.emit('connection', state)
  }

  /** While offline in auto mode, asks the server for a token every few seconds. */
  #scheduleProbe(delayMs: number) {
    if (this.#stopped.signal.aborted) return
    this.#probe = setTimeout(async () => {
      if (this.#connection !== 'online') {
        try {
          await this.#client.token()
          this.serverAnswered()
        } catch {
          this.serverUnreachable()
        }
      }
      this.#scheduleProbe(5_000)
    }, delayMs)
    this.#probe.unref()
  }

  async #run() {
    for await (const frame of this.#parts.camera) {
      if (this.#stopped.signal.aborted) break
      await this.#frame(frame)
    }
  }

  async #frame(frame: CameraFrame) {
    const { image, at } = frame
    this.#parts.kiosk?.frame(image)
    const measure = this.#gate.measure(image, at)
    let faces: FaceAnalysis[] = []
    if (measure.active) {
      faces = await this.#analyse(image)
      if (faces.length > 0) this.#gate.faceSeen(at)
    }
    const fill = this.#parts.fillLight.update(
      measure,
      at,
      faces.length > 0,
      this.#gate.motionThreshold
    )
    this.#setLight(fill || this.#now() < this.#doorLightUntil)
    const step = this.#parts.tracker.observe({
      at,
      frame: { width: image.width, height: image.height },
      faces,
      handle: image,
    })
    const startsPassage = step.state === 'tracking' && this.#showingResult
    if (startsPassage) this.#showingResult = false
    this.#parts.kiosk?.update({
      guidance: step.guidance,
      face: step.face,
      frameSize: { width: image.width, height: image.height },
      ...(startsPassage ? { result: undefined, enrolment: undefined } : {}),
    })
    if (step.ready) {
      const ready = step.ready
      const enrolment = this.#enrolment?.attempting === false ? this.#enrolment : null
      if (enrolment) enrolment.attempting = true
      this.#deciding = this.#deciding
        .then(() => (enrolment ? this.#enrol(ready, enrolment) : this.#decide(ready)))
        .catch((error) => this.#parts.logger.error({ err: error }, 'a passage was not decided'))
    }
  }

  /** Every face of the frame for the tracker; none while the engine is away. */
  async #analyse(image: DecodedImage): Promise<FaceAnalysis[]> {
    const engine = this.#parts.host.instancesOfKind('engine')[0]
    if (!engine) return []
    try {
      return await analyseFrame((work) => engine.use(work), image)
    } catch (error) {
      this.#parts.logger.warn({ err: error }, 'the engine did not analyse a frame')
      return []
    }
  }

  async #engine<T>(work: (engine: EngineDriver) => Promise<T>): Promise<T | null> {
    const engine = this.#parts.host.instancesOfKind('engine')[0]
    if (!engine) return null
    try {
      return await engine.use(work)
    } catch (error) {
      this.#parts.logger.warn({ err: error }, 'the engine did not analyse a frame')
      return null
    }
  }

  async #decide(ready: PassageReady<DecodedImage>) {
    /** The event is the moment the person was seen, not the moment the decision was done. */
    const at = new Date(ready.at)
    const snapshot = await jpeg(ready.handle)
    if (ready.liveness.required && !ready.liveness.proven) {
      await this.#settle(at, snapshot, { decision: 'denied', reason: 'spoof', score: null }, 'face')
      return
    }
    const card = await this.#cardFor(at)
    if (this.#connection !== 'offline' && this.#parts.config.mode !== 'offline') {
      const online = await this.#identifyOnline(snapshot, card ?? undefined)
      if (online) {
        await this.#show(at, online, 'server')
        return
      }
    }
    const embedded = await this.#engine((engine) =>
      engine.embed!({ image: ready.handle, face: ready.analysis.face.box })
    )
    if (!embedded?.ok) {
      this.#parts.logger.warn('the engine gave no feature for the passage; it is followed afresh')
      this.#parts.tracker.retry()
      return
    }
    const verdict = this.#parts.offline.decide({
      feature: embedded.feature,
      at,
      cardUid: card ?? undefined,
    })
    await this.#settle(at, snapshot, verdict, card ? 'face_card' : 'face')
  }

  /**
   * The passage's best frame enrolled for the person of enrolment mode
   * instead of decided: no event, the door stays shut. The server's
   * enrolment rules apply as to any regFace (consent, quality, one face,
   * like no one else, a first face held for review).
   */
  async #enrol(ready: PassageReady<DecodedImage>, enrolment: Enrolment) {
    if (ready.liveness.required && !ready.liveness.proven) {
      enrolment.finish('not_live')
      return
    }
    const timeout = AbortSignal.timeout(enrolmentCallMs)
    const client = new FacesApiClient(this.#parts.config.serverUrl, this.#parts.device, {
      fetch: (input, init) => (this.#parts.fetch ?? fetch)(input, { ...init, signal: timeout }),
    })
    try {
      const photo = await jpeg(ready.handle)
      const answer = await client.regFace({
        username: enrolment.username,
        faceName: enrolment.name,
        photo,
      })
      if (serverUnavailable.has(answer.code)) this.serverUnreachable()
      else this.serverAnswered()
      enrolment.finish(enrolmentOutcome(answer), answer.message)
    } catch (error) {
      this.#parts.logger.warn({ err: error }, 'the server did not answer regFace')
      this.serverUnreachable()
      enrolment.finish('unreachable', (error as Error).message)
    }
  }

  /**
   * `faceIdentify` within the online time limit; null when the server
   * cannot decide now (unreachable, slow, its engine or Redis down), so
   * that the passage is decided here.
   */
  async #identifyOnline(snapshot: Buffer, cardNumber?: string): Promise<Verdict | null> {
    const timeout = AbortSignal.timeout(this.#parts.config.onlineTimeoutMs)
    const client = new FacesApiClient(this.#parts.config.serverUrl, this.#parts.device, {
      fetch: (input, init) => (this.#parts.fetch ?? fetch)(input, { ...init, signal: timeout }),
    })
    try {
      const answer = await client.faceIdentify(snapshot, cardNumber)
      if (serverUnavailable.has(answer.code)) {
        this.serverUnreachable()
        return null
      }
      this.serverAnswered()
      if (answer.code !== 0) {
        this.#parts.logger.warn(`faceIdentify answered ${answer.code}: ${answer.message}`)
        return answer.code === 1 || answer.code === 6
          ? { decision: 'denied', reason: 'unknown_face', score: null }
          : null
      }
      const person = answer.person as { username: string; name: string } | null
      return {
        decision: answer.decision === 'granted' ? 'granted' : 'denied',
        reason: (answer.reason as PassageReason) ?? 'unknown_face',
        username: person?.username ?? null,
        name: person?.name ?? null,
        score: typeof answer.score === 'number' ? answer.score : null,
      }
    } catch (error) {
      this.#parts.logger.warn({ err: error }, 'the server did not answer faceIdentify')
      this.serverUnreachable()
      return null
    }
  }

  /**
   * A decision made here: stored first (a power cut after the door opened
   * loses no event), then shown and carried out; reported in the background.
   */
  async #settle(at: Date, snapshot: Buffer, verdict: Verdict, method: 'face' | 'face_card') {
    await this.#parts.outbox.record({
      at,
      decision: verdict.decision,
      reason: verdict.reason,
      username: verdict.username ?? null,
      name: verdict.name ?? null,
      score: verdict.score,
      method,
      snapshot,
    })
    this.#parts.kiosk?.update({ backlog: this.#parts.outbox.health().backlog })
    await this.#show(at, verdict, 'terminal')
  }

  async #show(at: Date, verdict: Verdict, decidedBy: PassageResult['decidedBy']) {
    const result: PassageResult = {
      decision: verdict.decision,
      reason: verdict.reason,
      name: verdict.name ?? undefined,
      at: at.getTime(),
      decidedBy,
    }
    this.#showingResult = true
    this.#parts.kiosk?.update({ result, guidance: undefined })
    this.emit('decided', { ...result, username: verdict.username, score: verdict.score })
    if (verdict.decision === 'granted') await this.#openDoor()
  }

  async #openDoor() {
    const { gate: gateId, openMs } = this.#parts.config.door
    if (gateId) {
      const gate = this.#parts.host.instance(gateId, 'gate')
      try {
        if (!gate) throw new Error(`no gate instance ${gateId}`)
        await gate.use((driver: GateDriver) => driver.open({ durationMs: openMs }))
      } catch (error) {
        this.#parts.logger.error({ err: error }, 'the gate did not open')
      }
    }
    this.#doorLightUntil = this.#now() + openMs
    this.#setLight(true)
  }

  #setLight(on: boolean) {
    const lightId = this.#parts.config.door.light
    if (!lightId || this.#lightOn === on) return
    this.#lightOn = on
    const light = this.#parts.host.instance(lightId, 'light')
    light
      ?.use((driver: LightDriver) => driver.set({ on }))
      .catch((error) => this.#parts.logger.warn({ err: error }, 'the light did not switch'))
  }

  /**
   * The card for this passage at a card-and-face door: one read within the
   * card window before the face, else the first within the window after
   * it. Null when none came (the server or the rules then deny the face
   * alone, as at the door) and at a face-only door.
   */
  async #cardFor(at: Date): Promise<string | null> {
    if (this.#parts.offline.requiredFactors !== 'face_card') return null
    const window = this.#parts.config.door.cardWindowMs
    const deadline = at.getTime() + window
    this.#parts.kiosk?.update({ guidance: 'present_card' })
    while (!this.#stopped.signal.aborted) {
      if (this.#card && this.#card.at >= at.getTime() - window) {
        const uid = this.#card.uid
        this.#card = null
        return uid
      }
      if (this.#now() >= deadline) return null
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return null
  }

  #followReader() {
    const readerId = this.#parts.config.door.reader
    if (!readerId) return
    const signal = this.#stopped.signal
    const follow = async () => {
      while (!signal.aborted) {
        const reader = this.#parts.host.instance(readerId, 'reader')
        try {
          if (!reader) throw new Error(`no reader instance ${readerId}`)
          const reads = await reader.use(async (driver: ReaderDriver) => driver.reads(signal))
          for await (const read of reads) this.#card = { uid: read.uid, at: this.#now() }
        } catch (error) {
          if (signal.aborted) return
          this.#parts.logger.warn({ err: error }, 'the card reader stopped; following it again')
        }
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
    follow().catch(() => {})
  }
}

/** A regFace answer as the display says it (see FaceRegistrationService for the codes). */
export function enrolmentOutcome(answer: FacesApiAnswer): EnrolmentOutcome {
  if (answer.code === 0) return 'enrolled'
  if (serverUnavailable.has(answer.code)) return 'unreachable'
  if (answer.code === 73731) return 'unusable_face'
  if (answer.code === 9006) return 'no_face'
  if (answer.code === 9001) return 'not_allowed'
  if (answer.code === 5) {
    if (answer.message.includes('held for an operator')) return 'held_for_review'
    if (answer.message.includes('consent')) return 'no_consent'
  }
  return 'refused'
}

/** The passage's frame as the JPEG sent to the server and kept as the event's snapshot. */
export async function jpeg(image: DecodedImage) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer()
}
