import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type Device from '#models/device'
import { PluginHost } from '#plugin-host/plugin_host'
import { withTimeout } from '#plugin-host/timeout'
import type { GateState } from '#plugin-host/contracts'
import type { InstanceState } from '#plugin-host/supervised_instance'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { DoorService } from '#services/doors/door_service'
import {
  doorSettingOf,
  withNamed,
  type DoorOpening,
  type DoorRefusal,
  type DoorSetting,
} from '#services/doors/door_setting'

export type { DoorRefusal } from '#services/doors/door_setting'

export type DoorInput = { gate?: string; openSeconds: number; reader?: string; light?: string }

export type DoorStatus = {
  setting: DoorSetting | null
  /** The configured instance's supervision state; null when the plugins file has no such gate. */
  state: InstanceState | null
  /** Where the gate is, when it runs and answers within a second. */
  position: GateState['position'] | null
}

const positionTimeoutMs = 1000

/**
 * Opening the door at a device from the admin pages, through the gate
 * plugin instance its setting names. Every opening the gate takes, and
 * every one it could not carry out, is in the audit log; a device with no
 * gate, or a gate the plugins file does not have, attempts nothing.
 */
@inject()
export class DeviceDoors {
  constructor(
    private plugins: PluginHost,
    private audit: AuditTrail,
    private doors: DoorService
  ) {}

  settingOf(device: Device): DoorSetting | null {
    return doorSettingOf(device)
  }

  /** The gate instances of the plugins file a device's door may use. */
  gates() {
    return this.#instances('gate')
  }

  /** The reader and light instances a device's door may use. */
  readers() {
    return this.#instances('reader')
  }

  lights() {
    return this.#instances('light')
  }

  #instances(kind: 'gate' | 'reader' | 'light') {
    return this.plugins.instancesOfKind(kind).map((instance) => ({
      id: instance.id,
      state: instance.state,
    }))
  }

  async status(device: Device): Promise<DoorStatus> {
    const setting = this.settingOf(device)
    const instance = setting && this.plugins.instance(setting.gate, 'gate')
    if (!setting || !instance) return { setting, state: null, position: null }
    const position =
      instance.state === 'running'
        ? await withTimeout('gate state', positionTimeoutMs, () =>
            instance.use((gate) => gate.state())
          ).then(
            (state) => state.position,
            () => null
          )
        : null
    return { setting, state: instance.state, position }
  }

  /**
   * Sets or clears the device's door. Only instances of the plugins file
   * of the right kind may be named; otherwise the field that names another
   * comes back, and nothing changes. Without a gate there is no door, and
   * its reader and light go too.
   */
  async configure(
    actor: Actor,
    device: Device,
    input: DoorInput
  ): Promise<{ ok: true } | { ok: false; field: 'gate' | 'reader' | 'light' }> {
    const gate = input.gate ?? null
    const named = { gate, reader: input.reader ?? null, light: input.light ?? null }
    for (const field of ['gate', 'reader', 'light'] as const) {
      const id = named[field]
      if (id && !this.#instances(field).some((instance) => instance.id === id)) {
        return { ok: false, field }
      }
    }
    const before = this.settingOf(device)
    const after = gate ? withNamed(gate, input.openSeconds, named.reader, named.light) : null
    if (JSON.stringify(before) === JSON.stringify(after)) return { ok: true }
    await db.transaction(async (trx) => {
      device.useTransaction(trx)
      const config: Record<string, unknown> = { ...device.config }
      if (after) config.door = after
      else delete config.door
      device.config = config
      await device.save()
      await this.audit.record(
        actor,
        { ...subject(device, 'device.door'), before: { door: before }, after: { door: after } },
        trx
      )
    })
    return { ok: true as const }
  }

  /**
   * Opens the door as a grant does (its light lit while it is open), and
   * audits the opening or why it failed; a device with no gate, or a gate
   * the plugins file does not have, attempts nothing and is not audited.
   */
  async open(actor: Actor, device: Device): Promise<DoorOpening> {
    const opening = await this.doors.open(device, 'operator')
    if (
      !opening.ok &&
      (opening.error.type === 'no_gate' || opening.error.type === 'gate_missing')
    ) {
      return opening
    }
    const setting = this.settingOf(device)!
    const durationMs = setting.openSeconds * 1000
    await this.audit.record(actor, {
      ...subject(device, opening.ok ? 'device.open_door' : 'device.open_door_failed'),
      after: opening.ok
        ? { gate: setting.gate, durationMs }
        : { gate: setting.gate, durationMs, refused: describeRefusal(opening.error) },
    })
    return opening
  }
}

function subject(device: Device, action: string) {
  return {
    action,
    subjectType: 'device',
    subjectId: device.id,
    subjectLabel: `${device.name} (${device.serialNumber})`,
  }
}

/** A refused opening as the audit log keeps it. */
function describeRefusal(refusal: DoorRefusal) {
  if (refusal.type === 'gate_unavailable') return `${refusal.type}: ${refusal.state}`
  if (refusal.type === 'gate_failed') return `${refusal.type}: ${refusal.message}`
  return refusal.type
}
