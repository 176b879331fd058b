import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceGate } from '#services/terminal/device_gate'
import { TerminalFeedbackService } from '#services/terminal/terminal_feedback_service'
import {
  readTerminalCall,
  readTerminalFields,
  readTerminalImage,
} from '#validators/terminal_request'
import { feedbackValidator, webResultValidator } from '#validators/terminal_validator'

/**
 * /faces/api/clinetFeedback and /faces/api/clinetWebResult (the original
 * spelling, which terminals in the field call).
 */
@inject()
export default class FeedbackController {
  constructor(
    private gate: DeviceGate,
    private feedback: TerminalFeedbackService
  ) {}

  async store({ request }: HttpContext) {
    const input = await readTerminalFields(request, feedbackValidator)
    const snapshot = await readTerminalImage(request, 'image')
    const admission = await this.gate.admit(input, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.feedback.report(admission.device, { ...input, snapshot })
  }

  async show({ request }: HttpContext) {
    const input = await readTerminalFields(request, webResultValidator)
    const admission = await this.gate.admit(input, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.feedback.latest(admission.device)
  }
}
