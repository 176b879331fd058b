import { inject } from '@adonisjs/core'
import Device from '#models/device'
import { DeviceDirectory } from '#services/terminal/device_directory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import type { TerminalFailure } from '#services/terminal/protocol'

/**
 * How a call names its device: by token alone (the engine endpoints), or
 * by name and serial number with a token where the endpoint takes one.
 */
export type DeviceCredentials =
  | { token: string; deviceName?: undefined; deviceSN?: undefined }
  | { deviceName: string; deviceSN: string; token?: string }

export type Admission = { ok: true; device: Device } | { ok: false; error: TerminalFailure }

export function notApproved(device: Device): { ok: false; error: TerminalFailure } {
  const message =
    device.status === 'blocked'
      ? `device "${device.name}" is blocked`
      : `device "${device.name}" is waiting for an operator's approval`
  return { ok: false, error: { type: 'device_not_approved', message } }
}

const spentToken = {
  ok: false,
  error: {
    type: 'token_expired',
    message: 'the token is unknown, expired or already used; ask /faces/api/token for a new one',
  },
} as const

/**
 * Lets a call through only from an approved device, and records that the
 * device was seen. The token is spent first, so a replayed token is
 * refused (7) whatever else the call gets wrong, and it must have been
 * issued to the device the call names.
 */
@inject()
export class DeviceGate {
  constructor(
    private directory: DeviceDirectory,
    private tokens: DeviceTokenStore,
    private presence: DevicePresence
  ) {}

  async admit(credentials: DeviceCredentials, address: string): Promise<Admission> {
    const tokenDevice = credentials.token ? await this.tokens.redeem(credentials.token) : undefined
    if (tokenDevice === null) return spentToken

    let device: Device | null
    if (credentials.deviceName !== undefined) {
      const lookup = await this.directory.identify(credentials.deviceName, credentials.deviceSN)
      if (!lookup.ok) return lookup
      device = lookup.device
      if (tokenDevice !== undefined && tokenDevice !== device.id) {
        return {
          ok: false,
          error: { type: 'token_expired', message: 'the token was issued to another device' },
        }
      }
    } else {
      device = tokenDevice === undefined ? null : await Device.find(tokenDevice)
      if (!device) return spentToken
    }

    await this.presence.seen(device.id, address)
    return device.isApproved ? { ok: true, device } : notApproved(device)
  }
}
