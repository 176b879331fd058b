import { inject } from '@adonisjs/core'
import type { FaceSource } from '#models/face'
import type { DecodedImage, DetectedFace, FaceFeature } from '#plugin-sdk'
import { RecognitionEngine, type RecognitionFailure } from '#faces/recognition_engine'
import { embeddingBytes } from '#faces/face_data'
import type { TerminalFailure } from '#services/terminal/protocol'
import { decodeTerminalImage } from '#faces/photo_decoding'

export type Enrolment = {
  /** The engine instance that computed the feature, stored with the face. */
  engine: string
  face: DetectedFace
  feature: FaceFeature
  quality: number | null
}

export type EnrolmentOutcome = ({ ok: true } & Enrolment) | { ok: false; error: RecognitionFailure }

export type PhotoEnrolment =
  | ({ ok: true; format: string } & Enrolment)
  | { ok: false; error: RecognitionFailure | TerminalFailure }

/**
 * The columns of a Face row for an enrolment, so that every way of
 * enrolling (regFace, the person page) stores a face the same way.
 */
export function faceRow(
  personId: number,
  enrolment: Enrolment,
  source: FaceSource,
  imagePath: string
) {
  return {
    personId,
    embedding: embeddingBytes(enrolment.feature.vector),
    engine: enrolment.engine,
    modelId: enrolment.feature.model,
    dimension: enrolment.feature.vector.length,
    quality: enrolment.quality,
    source,
    imagePath,
    box: enrolment.face.box,
    landmarks: enrolment.face.landmarks,
  }
}

/**
 * Computes the feature of an enrolment photo for regFace and the person
 * page's upload: the largest face in the picture, described by the running
 * recognition engine, with its quality score. Without an engine, regFace
 * answers 3. Tests put a stand-in in this class's place through the
 * container.
 */
@inject()
export class FaceEnroller {
  constructor(protected recognition: RecognitionEngine) {}

  /**
   * An uploaded photo's bytes, decoded within the upload limits and then
   * enrolled; `field` names the upload in the messages.
   */
  async enrollPhoto(bytes: Uint8Array, field: string): Promise<PhotoEnrolment> {
    const picture = await decodeTerminalImage(bytes, field)
    if (!picture.ok) return picture
    const enrolment = await this.enroll(picture.image)
    if (!enrolment.ok) return enrolment
    return { ...enrolment, format: picture.format }
  }

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
