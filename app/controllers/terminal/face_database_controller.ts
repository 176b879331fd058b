import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceGate } from '#services/terminal/device_gate'
import { FaceDatabaseService } from '#services/terminal/face_database_service'
import { readTerminalCall, readTerminalFields } from '#validators/terminal_request'
import { getDbsValidator } from '#validators/terminal_validator'

/**
 * /faces/api/getDbs. Photo links point back at the address the terminal
 * used, which it can reach by definition.
 */
@inject()
export default class FaceDatabaseController {
  constructor(
    private gate: DeviceGate,
    private faceDb: FaceDatabaseService
  ) {}

  async show({ request }: HttpContext) {
    const input = await readTerminalFields(request, getDbsValidator)
    const admission = await this.gate.admit(input, readTerminalCall(request))
    if (!admission.ok) return admission
    const baseUrl = `${request.protocol()}://${request.host()}`
    return this.faceDb.forDevice(admission.device, { since: input.since, baseUrl })
  }
}
