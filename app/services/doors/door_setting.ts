import type Device from '#models/device'
import type { InstanceState } from '#plugin-host/supervised_instance'

/**
 * Which gate opens the door at a device, as its config keeps it under
 * `door`: a gate instance of the plugins file by its id, and how long it
 * opens for; with the reader instance whose cards count at the device and
 * the light instance lit while its door is open, if any.
 */
export type DoorSetting = {
  gate: string
  openSeconds: number
  reader?: string
  light?: string
}

export const defaultOpenSeconds = 5

/** The device's door setting, or null when no gate opens its door. */
export function doorSettingOf(device: Device): DoorSetting | null {
  const door = device.config?.door as Partial<DoorSetting> | undefined
  if (!door || typeof door.gate !== 'string') return null
  return withNamed(door.gate, door.openSeconds ?? defaultOpenSeconds, door.reader, door.light)
}

/** A setting with only the instances it names, as the device's config keeps it. */
export function withNamed(gate: string, openSeconds: number, reader?: unknown, light?: unknown) {
  const setting: DoorSetting = { gate, openSeconds }
  if (typeof reader === 'string') setting.reader = reader
  if (typeof light === 'string') setting.light = light
  return setting
}

export type DoorRefusal =
  | { type: 'no_gate' }
  | { type: 'gate_missing'; gate: string }
  | { type: 'gate_unavailable'; gate: string; state: InstanceState }
  | { type: 'gate_failed'; gate: string; message: string }

export type DoorOpening =
  { ok: true; gate: string; durationMs: number } | { ok: false; error: DoorRefusal }
