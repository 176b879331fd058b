import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DevicePairingService } from '#services/device_pairing_service'
import { readTerminalCall, readTerminalFields } from '#validators/terminal_request'
import { pairRequestValidator } from '#validators/terminal_agent_validator'

/** /faces/api/pair: a terminal agent asks to be paired, then polls with the same key. */
@inject()
export default class PairingController {
  constructor(private pairing: DevicePairingService) {}

  async store({ request }: HttpContext) {
    const input = await readTerminalFields(request, pairRequestValidator)
    return this.pairing.request(input, readTerminalCall(request))
  }
}
