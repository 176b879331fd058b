import { inject } from '@adonisjs/core'
import type { DecodedImage, DetectedFace, FaceFeature } from '#plugin-sdk'
import { RecognitionEngine, type RecognitionFailure } from '#services/recognition_engine'

export type Enrolment = {
  /** The engine instance that computed the feature, stored with the face. */
  engine: string
  face: DetectedFace
  feature: FaceFeature
  quality: number | null
}

export type EnrolmentOutcome = ({ ok: true } & Enrolment) | { ok: false; error: RecognitionFailure }

/**
 * Computes the feature of an enrolment photo for regFace: the largest face
 * in the picture, described by the running recognition engine, with its
 * quality score. Without an engine, regFace answers 3. Tests put a
 * stand-in in this class's place through the container.
 */
@inject()
export class FaceEnroller {
  constructor(protected recognition: RecognitionEngine) {}

  async enroll(image: DecodedImage): Promise<EnrolmentOutcome> {
    const opened = this.recognition.picture(image, 'picBase64')
    if (!opened.ok) return opened
    const analysed = await opened.picture.analyse({ feature: true, quality: true })
    if (!analysed.ok) return analysed
    return {
      ok: true,
      engine: opened.picture.engineId,
      face: analysed.face,
      feature: analysed.feature!,
      quality: analysed.quality?.score ?? null,
    }
  }
}
