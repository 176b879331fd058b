import { inject } from '@adonisjs/core'
import type { FaceBox, FaceFeature, Gender } from '#plugin-sdk'
import { decodeFeature, encodeFeature, type FeatureError } from '#faces/feature_blob'
import { answeredScore, RecognitionEngine, type EnginePicture } from '#faces/recognition_engine'
import type { TerminalFailure, TerminalResult } from '#services/terminal/protocol'

/** The box a terminal may send, as faceDetect gave it; none means the largest face. */
export type BoxFields = { left?: number; top?: number; right?: number; bottom?: number }

const genderCodes: Record<Gender, number> = { male: 0, female: 1, unknown: -1 }

const edges = ['left', 'top', 'right', 'bottom'] as const

type Failure = { ok: false; error: TerminalFailure }

/**
 * The engine endpoints of the original protocol: faceDetect, faceAge,
 * faceGender, faceFeature and faceRecognize. Each decodes the picture
 * once and answers with the protocol's fields and codes.
 */
@inject()
export class FaceAnalysisService {
  constructor(private recognition: RecognitionEngine) {}

  async detect(image: Uint8Array) {
    return this.#onPicture(image, {}, async (picture) => {
      const found = await picture.detect()
      if (!found.ok) return found
      const faceContent = found.faces.map((face, id) => ({
        id,
        ...pixelBox(face.box),
        angle: face.angleCode,
      }))
      return { ok: true, data: { faces: faceContent.length, faceContent } }
    })
  }

  async age(image: Uint8Array, fields: BoxFields) {
    return this.#onPicture(image, fields, async (picture, box) => {
      const estimated = await picture.age(box)
      if (!estimated.ok) return estimated
      return { ok: true, data: { age: Math.round(estimated.age) } }
    })
  }

  async gender(image: Uint8Array, fields: BoxFields) {
    return this.#onPicture(image, fields, async (picture, box) => {
      const estimated = await picture.gender(box)
      if (!estimated.ok) return estimated
      return { ok: true, data: { gender: genderCodes[estimated.gender] } }
    })
  }

  async feature(image: Uint8Array, fields: BoxFields) {
    return this.#onPicture(image, fields, async (picture, box) => {
      const embedded = await picture.embed(box)
      if (!embedded.ok) return embedded
      const feature = encodeFeature(embedded.feature)
      return { ok: true, data: { feature, featureSize: Buffer.byteLength(feature, 'base64') } }
    })
  }

  /**
   * The calibrated score of two features. Each is decoded on its own so
   * that a malformed one is named; features of different models are
   * refused, never compared.
   */
  async recognize(pending: string, original: string): Promise<TerminalResult<{ score: number }>> {
    const loaded = await this.recognition.comparator()
    if (!loaded.ok) return loaded
    const first = readFeature('pending', pending)
    if (!first.ok) return first
    const second = readFeature('original', original)
    if (!second.ok) return second
    const compared = loaded.comparator.compare(first.feature, second.feature)
    if (!compared.ok) return { ok: false, error: comparisonFailure(compared.error) }
    return { ok: true, data: { score: answeredScore(compared.score) } }
  }

  async #onPicture(
    image: Uint8Array,
    fields: BoxFields,
    work: (picture: EnginePicture, box?: FaceBox) => Promise<TerminalResult>
  ): Promise<TerminalResult> {
    const box = faceBox(fields)
    if (!box.ok) return box
    return this.recognition.withPicture(image, 'image', ({ picture }) => work(picture, box.box))
  }
}

function pixelBox(box: FaceBox) {
  return {
    left: Math.round(box.left),
    top: Math.round(box.top),
    right: Math.round(box.right),
    bottom: Math.round(box.bottom),
  }
}

/** All four edges or none: half a box points at no face. */
function faceBox(fields: BoxFields): { ok: true; box?: FaceBox } | Failure {
  const missing = edges.filter((edge) => fields[edge] === undefined)
  if (missing.length === edges.length) return { ok: true }
  if (missing.length > 0) {
    const message = `missing ${missing.join(', ')}: a face box needs all four edges, or none for the largest face`
    return { ok: false, error: { type: 'missing_fields', message } }
  }
  const box = fields as FaceBox
  if (box.right <= box.left || box.bottom <= box.top) {
    const message = 'the face box is empty: right must exceed left, and bottom top'
    return { ok: false, error: { type: 'invalid_parameter', message } }
  }
  return { ok: true, box }
}

/**
 * A form client that did not escape "+" sends it as a space, which is never
 * valid base64, so a space can only have been a "+".
 */
function readFeature(field: string, text: string): { ok: true; feature: FaceFeature } | Failure {
  const decoded = decodeFeature(text.trim().replace(/ /g, '+'))
  if (decoded.ok) return decoded
  return {
    ok: false,
    error: { type: 'invalid_parameter', message: `${field}: ${decoded.error.message}` },
  }
}

function comparisonFailure(error: FeatureError): TerminalFailure {
  if (error.type === 'model_mismatch') {
    const [pending, original] = error.models
    const message = `pending comes from model ${pending} and original from ${original}; features of different models do not compare`
    return { type: 'feature_model_mismatch', message }
  }
  if (error.type === 'uncalibrated') {
    const message = `this server has no calibration for model ${error.model}, so no score it could stand behind`
    return { type: 'feature_model_mismatch', message }
  }
  return { type: 'invalid_parameter', message: error.message }
}
