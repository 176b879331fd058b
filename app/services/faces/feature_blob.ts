import { readFile } from 'node:fs/promises'
import type { FaceFeature, ScoreCalibration } from '#plugin-sdk'

/**
 * The protocol's `faceData` / `feature`: a face descriptor as a versioned
 * binary blob, base64-encoded. Little-endian layout:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic `FAFT` |
 * | 4 | 1 | format version, 1 |
 * | 5 | 1 | element type, 1 = float32 |
 * | 6 | 1 | length n of the model id |
 * | 7 | n | model id, ASCII (`faceapi-recognition`) |
 * | 7 + n | 2 | dimension d |
 * | 9 + n | 4·d | the L2-normalised vector |
 *
 * The model id travels with the vector so that features of different
 * models are refused (73733) instead of compared into a meaningless score.
 */
const magic = [0x46, 0x41, 0x46, 0x54]
export const featureFormatVersion = 1
const float32Type = 1
const modelIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/
const maxDimension = 4096

/**
 * The protocol answers `malformed` with 2 (invalid parameter) and
 * `model_mismatch` with 73733 (feature level mismatched); `uncalibrated`
 * (a model this server has no calibration for, so no score it could stand
 * behind) is a mismatch with this server's engine, 73733 as well.
 */
export type FeatureError =
  | { type: 'malformed'; message: string }
  | { type: 'model_mismatch'; models: [string, string] }
  | { type: 'uncalibrated'; model: string }

export type FeatureDecodeResult =
  | { ok: true; feature: FaceFeature }
  | { ok: false; error: Extract<FeatureError, { type: 'malformed' }> }

export type FeatureCompareResult =
  | { ok: true; score: number; similarity: number; model: string }
  | { ok: false; error: FeatureError }

export function encodeFeature({ model, vector }: FaceFeature): string {
  if (!modelIdPattern.test(model)) throw new Error(`"${model}" is not a valid model id`)
  if (vector.length < 1 || vector.length > maxDimension) {
    throw new Error(`A feature has 1 to ${maxDimension} elements, not ${vector.length}`)
  }
  const bytes = new Uint8Array(9 + model.length + 4 * vector.length)
  const view = new DataView(bytes.buffer)
  bytes.set(magic, 0)
  bytes[4] = featureFormatVersion
  bytes[5] = float32Type
  bytes[6] = model.length
  for (let i = 0; i < model.length; i++) bytes[7 + i] = model.charCodeAt(i)
  view.setUint16(7 + model.length, vector.length, true)
  const start = 9 + model.length
  vector.forEach((value, index) => view.setFloat32(start + 4 * index, value, true))
  return Buffer.from(bytes).toString('base64')
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Checks everything a blob claims before trusting it: base64 itself,
 * magic, version, element type, model id, dimension, exact length, finite
 * values of unit length. Line breaks inside the base64 (some encoders wrap
 * at 76 columns) are allowed; anything else is malformed.
 */
export function decodeFeature(text: string): FeatureDecodeResult {
  const compact = typeof text === 'string' ? text.replace(/[\r\n]/g, '') : ''
  if (compact.length === 0 || !base64Pattern.test(compact)) return malformed('not base64')
  const bytes = Buffer.from(compact, 'base64')
  if (bytes.length < 9 || magic.some((byte, index) => bytes[index] !== byte)) {
    return malformed('not a feature blob')
  }
  if (bytes[4] !== featureFormatVersion) return malformed(`format version ${bytes[4]} is unknown`)
  if (bytes[5] !== float32Type) return malformed(`element type ${bytes[5]} is unknown`)
  const idLength = bytes[6]
  if (bytes.length < 9 + idLength) return malformed('the blob is truncated')
  const model = bytes.subarray(7, 7 + idLength).toString('latin1')
  if (!modelIdPattern.test(model)) return malformed('the model id is invalid')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dimension = view.getUint16(7 + idLength, true)
  if (dimension < 1 || dimension > maxDimension) return malformed(`dimension ${dimension}`)
  if (bytes.length !== 9 + idLength + 4 * dimension) {
    return malformed(
      `${dimension} elements need ${9 + idLength + 4 * dimension} bytes, not ${bytes.length}`
    )
  }
  const vector = new Float32Array(dimension)
  let norm = 0
  for (let i = 0; i < dimension; i++) {
    vector[i] = view.getFloat32(9 + idLength + 4 * i, true)
    norm += vector[i] * vector[i]
  }
  if (!Number.isFinite(norm) || Math.abs(Math.sqrt(norm) - 1) > 1e-3) {
    return malformed('the vector is not unit-length')
  }
  return { ok: true, feature: { model, vector } }
}

/**
 * The cosine of two unit vectors, divided by their norms as computed here:
 * a float32 vector is unit-length only to about 1e-7, which the steep top
 * of a calibration would turn into a visible score below 1 for a feature
 * compared with itself.
 */
export function cosine(x: Float32Array, y: Float32Array) {
  let dot = 0
  let xx = 0
  let yy = 0
  for (const [i, value] of x.entries()) {
    dot += value * y[i]
    xx += value * value
    yy += y[i] * y[i]
  }
  return xx === 0 || yy === 0 ? 0 : dot / Math.sqrt(xx * yy)
}

function malformed(message: string) {
  return { ok: false as const, error: { type: 'malformed' as const, message } }
}

/**
 * The calibrated score of a cosine similarity: linear between the
 * calibration's knots, so a score of 0.6 is exactly the similarity the
 * calibration tied to a false-accept rate of 1e-3.
 */
export function calibratedScore(calibration: ScoreCalibration, similarity: number) {
  const { knots } = calibration
  const x = Math.min(1, Math.max(-1, similarity))
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i]
    if (x <= x1) {
      const [x0, y0] = knots[i - 1]
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)
    }
  }
  return knots[knots.length - 1][1]
}

/**
 * Compares features with each model's calibration, as recorded in
 * `models/manifest.json` (`models.<id>.calibration`). Load it once and
 * reuse it.
 */
export class FeatureComparator {
  constructor(private calibrations: Record<string, ScoreCalibration>) {}

  static async fromManifest(path: string) {
    const manifest = JSON.parse(await readFile(path, 'utf8')) as {
      models: Record<string, { calibration?: ScoreCalibration }>
      fused?: Record<string, { calibration?: ScoreCalibration }>
    }
    const calibrations: Record<string, ScoreCalibration> = {}
    for (const [id, entry] of [
      ...Object.entries(manifest.models),
      ...Object.entries(manifest.fused ?? {}),
    ]) {
      if (entry.calibration) calibrations[id] = entry.calibration
    }
    return new FeatureComparator(calibrations)
  }

  /** Base64 blobs as terminals send them, or features straight from the engine. */
  compare(first: string | FaceFeature, second: string | FaceFeature): FeatureCompareResult {
    const a =
      typeof first === 'string' ? decodeFeature(first) : { ok: true as const, feature: first }
    if (!a.ok) return a
    const b =
      typeof second === 'string' ? decodeFeature(second) : { ok: true as const, feature: second }
    if (!b.ok) return b
    const [x, y] = [a.feature, b.feature]
    if (x.model !== y.model || x.vector.length !== y.vector.length) {
      return { ok: false, error: { type: 'model_mismatch', models: [x.model, y.model] } }
    }
    const calibration = this.calibrations[x.model]
    if (!calibration) return { ok: false, error: { type: 'uncalibrated', model: x.model } }
    const similarity = cosine(x.vector, y.vector)
    return {
      ok: true,
      score: calibratedScore(calibration, similarity),
      similarity,
      model: x.model,
    }
  }
}
