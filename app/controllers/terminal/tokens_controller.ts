import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceTokenService } from '#services/terminal/device_token_service'
import { readTerminalCall, readTerminalFields } from '#validators/terminal_request'
import { tokenRequestValidator } from '#validators/terminal_validator'

/**
 * /faces/api/token. Results become protocol answers in the terminal API
 * middleware.
 */
@inject()
export default class TokensController {
  constructor(private tokens: DeviceTokenService) {}

  async store({ request }: HttpContext) {
    const input = await readTerminalFields(request, tokenRequestValidator)
    return this.tokens.request(input, readTerminalCall(request))
  }
}
