import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceGate } from '#services/terminal/device_gate'
import { SyncEventsService } from '#services/terminal/sync_events_service'
import { readTerminalCall, readTerminalFields } from '#validators/terminal_request'
import { syncEventsValidator } from '#validators/terminal_validator'

/** /faces/api/syncEvents: a long poll for face-database changes. */
@inject()
export default class SyncEventsController {
  constructor(
    private gate: DeviceGate,
    private syncEvents: SyncEventsService
  ) {}

  async show({ request, response }: HttpContext) {
    const input = await readTerminalFields(request, syncEventsValidator)
    const admission = await this.gate.admit(input, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.syncEvents.next(admission.device, input.revision, (cancel) => {
      response.response.once('close', cancel)
    })
  }
}
