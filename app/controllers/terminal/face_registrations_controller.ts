import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceGate } from '#services/terminal/device_gate'
import { FaceRegistrationService } from '#services/terminal/face_registration_service'
import {
  decodeBase64Image,
  readTerminalCall,
  readTerminalFields,
} from '#validators/terminal_request'
import { regFaceValidator } from '#validators/terminal_validator'

/**
 * /faces/api/regFace.
 */
@inject()
export default class FaceRegistrationsController {
  constructor(
    private gate: DeviceGate,
    private registrations: FaceRegistrationService
  ) {}

  async store({ request }: HttpContext) {
    const input = await readTerminalFields(request, regFaceValidator)
    const picture = decodeBase64Image('picBase64', input.picBase64)
    const admission = await this.gate.admit(input, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.registrations.register(admission.device, { ...input, picture }, request.ip())
  }
}
