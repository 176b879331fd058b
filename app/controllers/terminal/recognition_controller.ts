import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DeviceGate } from '#services/terminal/device_gate'
import { FaceAnalysisService } from '#services/terminal/face_analysis_service'
import { FaceIdentificationService } from '#services/terminal/face_identification_service'
import {
  readRequiredTerminalImage,
  readTerminalCall,
  readTerminalFields,
} from '#validators/terminal_request'
import {
  faceBoxValidator,
  faceDetectValidator,
  faceIdentifyValidator,
  faceRecognizeValidator,
} from '#validators/terminal_validator'

/**
 * The recognition endpoints: faceDetect, faceAge, faceGender, faceFeature,
 * faceRecognize and faceIdentify. Each names its device by token alone.
 */
@inject()
export default class RecognitionController {
  constructor(
    private gate: DeviceGate,
    private analysis: FaceAnalysisService,
    private identification: FaceIdentificationService
  ) {}

  async detect({ request }: HttpContext) {
    const { token } = await readTerminalFields(request, faceDetectValidator)
    const image = await readRequiredTerminalImage(request, 'image')
    const admission = await this.gate.admit({ token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.analysis.detect(image)
  }

  async age({ request }: HttpContext) {
    const { token, ...box } = await readTerminalFields(request, faceBoxValidator)
    const image = await readRequiredTerminalImage(request, 'image')
    const admission = await this.gate.admit({ token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.analysis.age(image, box)
  }

  async gender({ request }: HttpContext) {
    const { token, ...box } = await readTerminalFields(request, faceBoxValidator)
    const image = await readRequiredTerminalImage(request, 'image')
    const admission = await this.gate.admit({ token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.analysis.gender(image, box)
  }

  async feature({ request }: HttpContext) {
    const { token, ...box } = await readTerminalFields(request, faceBoxValidator)
    const image = await readRequiredTerminalImage(request, 'image')
    const admission = await this.gate.admit({ token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.analysis.feature(image, box)
  }

  async recognize({ request }: HttpContext) {
    const input = await readTerminalFields(request, faceRecognizeValidator)
    const admission = await this.gate.admit({ token: input.token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.analysis.recognize(input.pending, input.original)
  }

  async identify({ request }: HttpContext) {
    const input = await readTerminalFields(request, faceIdentifyValidator)
    const image = await readRequiredTerminalImage(request, 'image')
    const admission = await this.gate.admit({ token: input.token }, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.identification.identify(admission.device, { image, cardNumber: input.cardNumber })
  }
}
