import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import { DevicePresence, type Sighting } from '#services/terminal/device_presence'
import { unlessRedisIsDown } from '#services/redis_availability'

/** What a page needs of a device to tell whether it is online. */
export type PresenceSubject = Pick<Device, 'id' | 'lastSeenAt' | 'lastSeenAddress'>

export type OnlineState = {
  id: number
  online: boolean
  lastSeenAt: DateTime | null
  address: string | null
}

/**
 * Whether each device is online now: its last call, of any kind and
 * whether or not it was refused, is at most `DEVICE_ONLINE_SECONDS` old
 * (a minute by default). The last call is the newer of what Redis holds,
 * written on every call, and the devices table, which Redis's sightings
 * reach every `DEVICE_PRESENCE_FLUSH_SECONDS` and which still knows the
 * devices' calls when Redis has lost its data.
 */
@inject()
export class DeviceOnlineStatus {
  readonly windowMs = terminalConfig.onlineSeconds * 1000

  constructor(private presence: DevicePresence) {}

  /** Every device's latest call Redis knows of; null while Redis is unavailable. */
  sightings(): Promise<Map<number, Sighting> | null> {
    return unlessRedisIsDown(this.presence.latest(), null)
  }

  /**
   * The devices' states from their rows and the sightings; without
   * sightings (Redis is down), from the rows alone.
   */
  states(
    devices: PresenceSubject[],
    sightings: Map<number, Sighting> | null,
    now = Date.now()
  ): Map<number, OnlineState> {
    const states = new Map<number, OnlineState>()
    for (const device of devices) {
      const stored = device.lastSeenAt?.toMillis() ?? null
      const sighting = sightings?.get(device.id)
      const latest =
        sighting && (stored === null || sighting.at > stored)
          ? sighting
          : stored === null
            ? null
            : { at: stored, address: device.lastSeenAddress ?? '' }
      states.set(device.id, {
        id: device.id,
        online: latest !== null && now - latest.at <= this.windowMs,
        lastSeenAt: latest ? DateTime.fromMillis(latest.at) : null,
        address: latest?.address || null,
      })
    }
    return states
  }

  async of(devices: PresenceSubject[]) {
    return this.states(devices, await this.sightings())
  }
}
