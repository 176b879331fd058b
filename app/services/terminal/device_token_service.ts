import { inject } from '@adonisjs/core'
import { DeviceDirectory } from '#services/terminal/device_directory'
import { DeviceGate } from '#services/terminal/device_gate'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { TokenThrottle } from '#services/terminal/token_throttle'
import type { TerminalResult } from '#services/terminal/protocol'
import type { TerminalCall } from '#validators/terminal_request'

/**
 * /faces/api/token: a device that proves who it is gets a fresh token,
 * bound to that proof. An unsigned call naming a device never seen before
 * registers it as pending (within the caps on pending devices), for an
 * operator to approve; it is refused (9001) like every unproven call.
 */
@inject()
export class DeviceTokenService {
  constructor(
    private throttle: TokenThrottle,
    private gate: DeviceGate,
    private directory: DeviceDirectory,
    private tokens: DeviceTokenStore
  ) {}

  async request(
    input: { deviceName: string; sn: string },
    call: TerminalCall
  ): Promise<TerminalResult<{ token: string; expiresIn: number }>> {
    const limited = await this.throttle.check(call.address)
    if (limited) {
      const message = `too many token requests; try again in ${limited.retryAfterSeconds} s`
      return { ok: false, error: { type: 'rate_limited', message, ...limited } }
    }

    const admission = await this.gate.admit(
      { deviceName: input.deviceName, deviceSN: input.sn },
      call
    )
    if (!admission.ok) {
      if (admission.unknown) {
        await this.directory.registerPending(input.deviceName, input.sn, call.address)
      }
      return admission
    }
    const token = await this.tokens.issue(admission.device.id, admission.binding)
    return { ok: true, data: token, message: `token valid for ${token.expiresIn} s` }
  }
}
