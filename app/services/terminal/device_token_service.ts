import { inject } from '@adonisjs/core'
import { DeviceDirectory } from '#services/terminal/device_directory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { notApproved } from '#services/terminal/device_gate'
import { TokenThrottle } from '#services/terminal/token_throttle'
import type { TerminalResult } from '#services/terminal/protocol'

/**
 * /faces/api/token: an approved device gets a fresh token. A device never
 * seen before is registered as pending for an operator to approve, and is
 * refused (9001) until then, as are blocked devices.
 */
@inject()
export class DeviceTokenService {
  constructor(
    private throttle: TokenThrottle,
    private directory: DeviceDirectory,
    private presence: DevicePresence,
    private tokens: DeviceTokenStore
  ) {}

  async request(
    input: { deviceName: string; sn: string },
    address: string
  ): Promise<TerminalResult<{ token: string; expiresIn: number }>> {
    const limited = await this.throttle.check(input.sn, address)
    if (limited) {
      const message = `too many token requests; try again in ${limited.retryAfterSeconds} s`
      return { ok: false, error: { type: 'rate_limited', message, ...limited } }
    }

    let lookup = await this.directory.identify(input.deviceName, input.sn)
    if (!lookup.ok && lookup.error.type === 'unknown_device') {
      lookup = await this.directory.registerPending(input.deviceName, input.sn, address)
    }
    if (!lookup.ok) return lookup

    const device = lookup.device
    await this.presence.seen(device.id, address)
    if (!device.isApproved) return notApproved(device)
    const token = await this.tokens.issue(device.id)
    return { ok: true, data: token, message: `token valid for ${token.expiresIn} s` }
  }
}
