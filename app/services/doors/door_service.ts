import type { Logger } from '@adonisjs/core/logger'
import { DateTime } from 'luxon'
import doorsConfig from '#config/doors'
import type { AccessDecision, AccessReason } from '#models/access_event'
import Device from '#models/device'
import Person from '#models/person'
import type { DoorEvent } from '#plugin-host/door_events'
import type { PluginHost } from '#plugin-host/plugin_host'
import type { InstanceDoorEvent } from '#plugin-host/supervised_instance'
import type { AccessDecisionService, AccessVerdict } from '#services/access_decision_service'
import type { AccessEventRecorder } from '#services/access_event_recorder'
import { normalizeCardUid } from '#plugin-host/card_feed'
import { doorSettingOf, type DoorOpening, type DoorSetting } from '#services/doors/door_setting'

/** Why a door opened, for the log. */
export type OpeningCause = 'grant' | 'card' | 'operator'

const doorVerdicts: Record<DoorEvent['type'], { decision: AccessDecision; reason: AccessReason }> =
  {
    door_forced: { decision: 'alarm', reason: 'door_forced' },
    door_held_open: { decision: 'alarm', reason: 'door_held_open' },
    exit_button: { decision: 'granted', reason: 'exit_button' },
    gate_fault: { decision: 'alarm', reason: 'gate_fault' },
  }

/**
 * The doors at devices, driven by their plugin instances as each device's
 * Door setting names them (`gate`, `reader`, `light`; DeviceDoors edits
 * the setting and opens a door for an operator):
 *
 * - a granted decision at a device opens its gate for the device's open
 *   time, and lights its light as long;
 * - a card read at a device that asks for a card alone is decided and
 *   recorded here; at one asking for card and face it waits
 *   `cardWindowMs` for the face decision that takes it;
 * - what a gate reports of its door (forced, held open, exit button,
 *   fault) is recorded as an event of its device.
 *
 * One per process, started with the plugin host. Opening never throws:
 * a door that cannot open is logged, and a silent gate reports itself.
 */
export class DoorService {
  #pendingCards = new Map<number, { uid: string; at: number }>()
  #lightTimers = new Map<number, NodeJS.Timeout>()
  #unsubscribe: (() => void)[] = []
  #abort = new AbortController()
  #following = new Set<string>()

  constructor(
    private host: PluginHost,
    private decisions: AccessDecisionService,
    private recorder: AccessEventRecorder,
    private logger: Logger
  ) {}

  /**
   * Listens to the gates' door events and follows every reader, and the
   * readers added to the plugins file later (from the Settings pages).
   */
  start() {
    this.#unsubscribe.push(
      this.host.onDoorEvent((event) => {
        this.#doorEvent(event).catch((error) =>
          this.logger.error({ err: error, instance: event.instanceId }, 'door event not recorded')
        )
      }),
      this.host.onTransition(({ instanceId }) => {
        if (this.host.instance(instanceId, 'reader')) this.#follow(instanceId)
      })
    )
    for (const reader of this.host.instancesOfKind('reader')) this.#follow(reader.id)
  }

  stop() {
    this.#abort.abort()
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    for (const timer of this.#lightTimers.values()) clearTimeout(timer)
    this.#lightTimers.clear()
  }

  /** After an access decision at `device`: a grant opens its door. */
  async decided(device: Device, verdict: AccessVerdict) {
    if (verdict.decision === 'granted') await this.open(device, 'grant')
  }

  /**
   * Opens the gate of the device's door for its open time and lights its
   * light meanwhile, whoever asked (a grant, a card, an operator); the
   * refusal says why it did not open (no gate, an instance the plugins
   * file lacks or that is not running, the gate's own error).
   */
  async open(device: Device, cause: OpeningCause): Promise<DoorOpening> {
    const setting = doorSettingOf(device)
    if (!setting) return { ok: false, error: { type: 'no_gate' } }
    const gateId = setting.gate
    const gate = this.host.instance(gateId, 'gate')
    const durationMs = setting.openSeconds * 1000
    const details = { device: device.id, gate: gateId, cause, durationMs }
    if (!gate) {
      this.logger.warn(
        details,
        'the door of device %s names no gate of the plugins file',
        device.name
      )
      return { ok: false, error: { type: 'gate_missing', gate: gateId } }
    }
    if (!gate.available) {
      this.logger.warn(details, 'the gate of device %s is %s', device.name, gate.state)
      return { ok: false, error: { type: 'gate_unavailable', gate: gateId, state: gate.state } }
    }
    try {
      await gate.use((driver) => driver.open({ durationMs }))
    } catch (error) {
      this.logger.error(
        { ...details, err: error },
        'the door of device %s did not open',
        device.name
      )
      const message = (error as Error).message
      return { ok: false, error: { type: 'gate_failed', gate: gateId, message } }
    }
    this.logger.info(details, 'door opened')
    this.#light(device, setting, durationMs)
    return { ok: true, gate: gateId, durationMs }
  }

  /**
   * The card read at `device` (one asking for card and face) within the
   * last `cardWindowMs`, if any: taken by the face decision it goes with,
   * so that one card serves one decision.
   */
  takeCard(device: Device) {
    const pending = this.#pendingCards.get(device.id)
    this.#pendingCards.delete(device.id)
    if (!pending || Date.now() - pending.at > doorsConfig.cardWindowMs) return null
    return pending.uid
  }

  /** Whether a card read at `device` waits for the face it goes with. */
  cardWaitsAt(device: Device) {
    const pending = this.#pendingCards.get(device.id)
    return Boolean(pending && Date.now() - pending.at <= doorsConfig.cardWindowMs)
  }

  async #devicesNaming(key: 'gate' | 'reader', instanceId: string) {
    const devices = await Device.query().where('status', 'approved')
    return devices.filter((device) => doorSettingOf(device)?.[key] === instanceId)
  }

  async #doorEvent({ instanceId, event }: InstanceDoorEvent) {
    const devices = await this.#devicesNaming('gate', instanceId)
    const details = { instance: instanceId, event: event.type, message: event.message }
    if (devices.length === 0) {
      this.logger.warn(details, 'door event of a gate no device names')
      return
    }
    const verdict = doorVerdicts[event.type]
    for (const device of devices) {
      this.logger.info({ ...details, device: device.id }, 'door event at device %s', device.name)
      await this.recorder.record({
        device,
        person: null,
        reportedName: null,
        score: null,
        verdict,
        method: 'door',
        occurredAt: DateTime.fromJSDate(event.at),
        snapshotPath: null,
      })
    }
  }

  /** Reads cards from a reader, once per instance id however often it is asked. */
  #follow(readerId: string) {
    if (this.#following.has(readerId)) return
    this.#following.add(readerId)
    void this.#readCards(readerId).finally(() => this.#following.delete(readerId))
  }

  /**
   * Reads cards whenever the reader runs, until the service stops or the
   * reader leaves the plugins file. The instance is looked up each time,
   * since an edited reader is a new instance under the same id.
   */
  async #readCards(readerId: string) {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      const reader = this.host.instance(readerId, 'reader')
      if (!reader) return
      if (reader.state !== 'running') {
        await this.#nextTransition(reader.id, signal)
        continue
      }
      try {
        const reads = await reader.use(async (driver) => driver.reads(signal))
        for await (const read of reads) {
          await this.#cardRead(reader.id, normalizeCardUid(read.uid)).catch((error) =>
            this.logger.error({ err: error, reader: reader.id }, 'card read not handled')
          )
        }
      } catch (error) {
        this.logger.warn({ err: error, reader: reader.id }, 'reader not followed')
      }
      if (reader.state === 'running' && !signal.aborted)
        await this.#nextTransition(reader.id, signal)
    }
  }

  #nextTransition(instanceId: string, signal: AbortSignal) {
    return new Promise<void>((resolve) => {
      const done = () => {
        unsubscribe()
        signal.removeEventListener('abort', done)
        resolve()
      }
      const unsubscribe = this.host.onTransition((transition) => {
        if (transition.instanceId === instanceId) done()
      })
      signal.addEventListener('abort', done, { once: true })
    })
  }

  async #cardRead(readerId: string, uid: string) {
    for (const device of await this.#devicesNaming('reader', readerId)) {
      if (device.requiredFactors === 'face_card') {
        this.#pendingCards.set(device.id, { uid, at: Date.now() })
        this.logger.info({ device: device.id, reader: readerId }, 'card waits for a face')
      } else if (device.requiredFactors === 'card') {
        await this.#cardAlone(device, uid)
      }
    }
  }

  /** A device that asks for a card alone: the card decides. */
  async #cardAlone(device: Device, uid: string) {
    const person = await Person.findBy('card_number', uid)
    const occurredAt = DateTime.now()
    const verdict: AccessVerdict = person
      ? await this.decisions.decide({ device, person, at: occurredAt, card: uid })
      : { decision: 'denied', reason: 'unknown_card' }
    await this.recorder.record({
      device,
      person,
      reportedName: null,
      score: null,
      verdict,
      method: 'card',
      occurredAt,
      snapshotPath: null,
    })
    if (verdict.decision === 'granted') await this.open(device, 'card')
  }

  /** The device's light, on while its door is open. */
  #light(device: Device, setting: DoorSetting, durationMs: number) {
    const light = setting.light ? this.host.instance(setting.light, 'light') : undefined
    if (!light?.available) return
    const failed = (error: unknown) =>
      this.logger.warn({ err: error, light: setting.light }, 'door light not switched')
    light.use((driver) => driver.set({ on: true })).catch(failed)
    clearTimeout(this.#lightTimers.get(device.id))
    const timer = setTimeout(() => {
      this.#lightTimers.delete(device.id)
      light.use((driver) => driver.set({ on: false })).catch(failed)
    }, durationMs)
    timer.unref()
    this.#lightTimers.set(device.id, timer)
  }
}
