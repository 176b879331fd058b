import { EventEmitter } from 'node:events'
import sharp from 'sharp'
import type { Logger } from '@adonisjs/core/logger'
import type { PluginHost } from '#plugin-host/plugin_host'
import type {
  DecodedImage,
  EngineDriver,
  FaceAnalysis,
  FaceBox,
  FaceFeature,
  GateDriver,
  LightDriver,
  ReaderDriver,
} from '#plugin-sdk'
import type { AgentConfig } from '#terminal-client/agent_config'
import type {
  AgentCommand,
  AgentHeartbeat,
  ConnectionState,
  Guidance,
  KioskState,
  PartHealth,
  PassageReason,
  PassageResult,
} from '#terminal-client/agent_contracts'
import type { AgentOutbox } from '#terminal-client/agent_outbox'
import type { CameraFrame, CameraHealth } from '#terminal-client/camera/camera_source'
import { FrameGate } from '#terminal-client/camera/frame_gate'
import { FacesApiClient, type DeviceIdentity } from '#terminal-client/faces_api_client'

/** What the passage tracker says of one analysed frame. */
export type TrackerStep = {
  guidance?: Guidance
  face?: FaceBox
  /** Once per passage: decide now, with this frame. */
  ready?: {
    analysis: FaceAnalysis
    image: DecodedImage
    liveness: { required: boolean; proven: boolean }
  }
}

export interface PassageTracking {
  observe(observation: {
    at: number
    frame: { width: number; height: number }
    faces: FaceAnalysis[]
    image: DecodedImage
  }): TrackerStep
}

export type OfflineVerdict = {
  decision: 'granted' | 'denied'
  reason: PassageReason
  username?: string | null
  name?: string | null
  score: number | null
}

/** The synced database and the decision made from it. */
export interface OfflineDeciding {
  decide(input: { feature: FaceFeature; at: Date; cardUid?: string }): OfflineVerdict
  /** Whether this device asks for a card besides the face. */
  cardRequired(): boolean
  revision(): number
  syncNow(): void
  photoOf?(username: string): Uint8Array | null
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
  tracker: PassageTracking
  offline: OfflineDeciding
  outbox: AgentOutbox
  kiosk?: KioskDisplay
  /** Says when the fill light is wanted, per frame. */
  fillLight?: (measure: { dark: boolean; active: boolean; faceNear: boolean }) => boolean
  logger: Logger
  fetch?: typeof fetch
  now?: () => number
}

export type AgentEvents = {
  decided: [PassageResult & { username?: string | null; score: number | null }]
  restart: []
  connection: [ConnectionState]
}

/** Codes of an answer that mean "the server cannot decide now": decide here instead. */
const serverUnavailable = new Set([3, 8, 9007])

/**
 * The terminal at the door: camera frames through the frame gate to the
 * engine while something moves, the passage tracker deciding when a face
 * is good, live and confirmed, then one decision per passage — by the
 * server (`faceIdentify`, which records the event) while it answers, else
 * from the synced database (stored first, then reported with
 * `clinetFeedback`) — driving the gate, the light and the display the same
 * way in both modes.
 */
export class TerminalAgent extends EventEmitter<AgentEvents> {
  #parts: AgentParts
  #client: FacesApiClient
  #gate = new FrameGate()
  #connection: ConnectionState = 'connecting'
  #stopped = new AbortController()
  #loop: Promise<void> | null = null
  #deciding: Promise<void> = Promise.resolve()
  #card: { uid: string; at: number } | null = null
  #lightOn = false
  #doorLightUntil = 0
  #probe: NodeJS.Timeout | null = null
  #commandsDone: number[] = []
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
      revision: this.#parts.offline.revision(),
      camera:
        camera.state === 'running'
          ? { state: 'ok' }
          : { state: 'fault', detail: camera.lastError ?? camera.state },
      gate: this.#partHealth(this.#parts.config.door.gate),
      reader: this.#partHealth(this.#parts.config.door.reader),
      light: this.#partHealth(this.#parts.config.door.light),
      commandsDone: this.#commandsDone.splice(0),
      version: '1',
    }
  }

  /** Carries out what an operator asked of this terminal on its Devices page. */
  async command(command: AgentCommand) {
    this.#parts.logger.info({ command }, 'command from the server')
    if (command.type === 'open_door') await this.#openDoor()
    if (command.type === 'sync_now') this.#parts.offline.syncNow()
    this.#commandsDone.push(command.id)
    if (command.type === 'restart') this.emit('restart')
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
      const analysed = await this.#engine((engine) =>
        engine.analyse!({ image }, { quality: true, liveness: true })
      )
      if (analysed?.ok) {
        faces = [analysed]
        this.#gate.faceSeen(at)
      }
    }
    this.#light(measure.dark, measure.active, faces.length > 0)
    const step = this.#parts.tracker.observe({
      at,
      frame: { width: image.width, height: image.height },
      faces,
      image,
    })
    this.#parts.kiosk?.update({
      guidance: step.guidance,
      face: step.face,
      frameSize: { width: image.width, height: image.height },
      ...(step.face && !step.ready ? { result: undefined } : {}),
    })
    if (step.ready) {
      const ready = step.ready
      this.#deciding = this.#deciding
        .then(() => this.#decide(ready))
        .catch((error) => this.#parts.logger.error({ err: error }, 'a passage was not decided'))
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

  async #decide(ready: NonNullable<TrackerStep['ready']>) {
    const at = new Date(this.#now())
    const snapshot = await jpeg(ready.image)
    if (ready.liveness.required && !ready.liveness.proven) {
      await this.#settle(
        at,
        snapshot,
        { decision: 'denied', reason: 'spoof', score: null },
        'terminal'
      )
      return
    }
    const card = await this.#cardFor(at)
    if (card === 'missing') {
      await this.#settle(
        at,
        snapshot,
        { decision: 'denied', reason: 'unknown_card', score: null },
        'terminal'
      )
      return
    }
    if (this.#connection !== 'offline' && this.#parts.config.mode !== 'offline') {
      const online = await this.#identifyOnline(snapshot, card ?? undefined)
      if (online) {
        await this.#show(at, online, 'server')
        return
      }
    }
    const embedded = await this.#engine((engine) =>
      engine.embed!({ image: ready.image, face: ready.analysis.face.box })
    )
    if (!embedded?.ok) {
      this.#parts.logger.warn('the engine gave no feature for the passage; it is not decided')
      return
    }
    const verdict = this.#parts.offline.decide({
      feature: embedded.feature,
      at,
      cardUid: card ?? undefined,
    })
    await this.#settle(at, snapshot, verdict, 'terminal')
  }

  /**
   * `faceIdentify` within the online time limit; null when the server
   * cannot decide now (unreachable, slow, its engine or Redis down), so
   * that the passage is decided here.
   */
  async #identifyOnline(snapshot: Buffer, cardNumber?: string): Promise<OfflineVerdict | null> {
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

  /** A decision made here: stored and reported, then shown and carried out. */
  async #settle(
    at: Date,
    snapshot: Buffer,
    verdict: OfflineVerdict,
    decidedBy: PassageResult['decidedBy']
  ) {
    const shown = this.#show(at, verdict, decidedBy)
    await this.#parts.outbox.record({
      at,
      decision: verdict.decision,
      reason: verdict.reason,
      username: verdict.username ?? null,
      name: verdict.name ?? null,
      score: verdict.score,
      method: this.#card ? 'face_card' : 'face',
      snapshot,
    })
    this.#parts.kiosk?.update({ backlog: this.#parts.outbox.health().backlog })
    await shown
  }

  async #show(at: Date, verdict: OfflineVerdict, decidedBy: PassageResult['decidedBy']) {
    const photo = verdict.username ? this.#parts.offline.photoOf?.(verdict.username) : null
    if (photo && verdict.username) this.#parts.kiosk?.personPhoto?.(verdict.username, photo)
    const result: PassageResult = {
      decision: verdict.decision,
      reason: verdict.reason,
      name: verdict.name ?? undefined,
      photoUrl:
        photo && verdict.username ? `/photos/${encodeURIComponent(verdict.username)}` : undefined,
      at: at.getTime(),
      decidedBy,
    }
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

  /** The fill light: on while the scene is dark and someone approaches, and while the door is open. */
  #light(dark: boolean, active: boolean, faceNear: boolean) {
    const wanted =
      this.#now() < this.#doorLightUntil ||
      (this.#parts.fillLight ? this.#parts.fillLight({ dark, active, faceNear }) : dark && faceNear)
    this.#setLight(wanted)
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
   * it; `missing` when none came. Null at a face-only door.
   */
  async #cardFor(at: Date): Promise<string | null | 'missing'> {
    if (!this.#parts.offline.cardRequired()) return null
    const window = this.#parts.config.door.cardWindowMs
    const deadline = at.getTime() + window
    this.#parts.kiosk?.update({ guidance: 'present_card' })
    while (this.#now() < deadline && !this.#stopped.signal.aborted) {
      if (this.#card && this.#card.at >= at.getTime() - window) {
        const uid = this.#card.uid
        this.#card = null
        return uid
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return 'missing'
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

/** The passage's frame as the JPEG sent to the server and kept as the event's snapshot. */
export async function jpeg(image: DecodedImage) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer()
}
