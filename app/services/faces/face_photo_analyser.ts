import { inject } from '@adonisjs/core'
import type { DecodedImage, DetectedFace, FaceBox, FaceFeature, FaceQuality } from '#plugin-sdk'
import { RecognitionEngine, type RecognitionFailure } from '#faces/recognition_engine'

/** One face of a photo as the running engine describes it for enrolment. */
export type AnalysedFace = {
  /** The engine instance that computed the feature, stored with the face. */
  engine: string
  face: DetectedFace
  feature: FaceFeature
  quality: FaceQuality | null
}

export type PhotoAnalysis =
  | { ok: true; faces: DetectedFace[]; chosen: AnalysedFace }
  | { ok: false; error: RecognitionFailure }

/**
 * What the engine sees in an enrolment photo: every face it finds
 * (largest first), and the feature and quality of the one meant, which is
 * the face in `face` when the operator picked one, else the largest.
 * Without a running engine the answer is `engine_unavailable`. Tests put a
 * stand-in in this class's place through the container.
 */
@inject()
export class FacePhotoAnalyser {
  constructor(protected recognition: RecognitionEngine) {}

  /** `embedder` names the model of the feature when it is not the gallery's model in force. */
  async analyse(image: DecodedImage, face?: FaceBox, embedder?: string): Promise<PhotoAnalysis> {
    const opened = this.recognition.picture(image, 'photo')
    if (!opened.ok) return opened
    const detected = await opened.picture.detect()
    if (!detected.ok) return detected
    const analysed = await opened.picture.analyse(
      { feature: true, quality: true, embedder },
      face ?? detected.faces[0].box
    )
    if (!analysed.ok) return analysed
    return {
      ok: true,
      faces: detected.faces,
      chosen: {
        engine: opened.picture.engineId,
        face: analysed.face,
        feature: analysed.feature!,
        quality: analysed.quality ?? null,
      },
    }
  }
}
