import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import type { ModelId } from '#tools/model_builder/model_catalog'
import { ModelsBuilder, type ModelsManifest } from '#tools/model_builder/models_builder'

/**
 * Face crops from permissively licensed repositories (see
 * tests/fixtures/ATTRIBUTION.md). The colour photos are cropped the way
 * human crops faces: the BlazeFace box enlarged 1.4× and squared.
 */
export const faces = [
  { file: 'sheldon.png' },
  { file: 'penny.png' },
  { file: 'kit_harington.jpg', crop: { left: 275, top: 59, width: 267, height: 267 } },
  { file: 'rose_leslie.jpg', crop: { left: 566, top: 68, width: 377, height: 377 } },
]

export type Face = (typeof faces)[number]

export const PARITY = { cosine: 0.99999, relativeError: 1e-4 }

/**
 * Builds whatever is missing or stale in models/ (a no-op once
 * `node ace models:build` has run) and returns the manifest.
 */
export async function builtModels(): Promise<ModelsManifest> {
  const builder = new ModelsBuilder({
    rootDir: app.makePath(),
    outDir: app.makePath('models'),
    calibrationFile: app.makePath('plugins', 'face_engine', 'calibration.json'),
  })
  const { manifest } = await builder.build()
  return manifest
}

export async function useTfjsCpu() {
  tf.env().set('PROD', true)
  await tf.setBackend('cpu')
}

export function session(manifest: ModelsManifest, id: ModelId) {
  return ort.InferenceSession.create(app.makePath('models', manifest.models[id]!.file), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  })
}

/**
 * The model input for `face`, prepared only from what the manifest says
 * (size, crop, scale/mean/std), so that the manifest is exercised too.
 */
export async function modelInput(
  manifest: ModelsManifest,
  id: ModelId,
  face: Face,
  wholeFrame = false
) {
  const { size, scale, mean, std } = manifest.models[id]!.preprocessing
  let image = sharp(join(app.makePath('tests', 'fixtures', 'faces'), face.file))
  if (face.crop && !wholeFrame) image = image.extract(face.crop)
  const { data } = await image
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size[0], size[1], { fit: 'contain', position: 'left top', background: '#000' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  const values = Float32Array.from(data, (pixel, i) => (pixel * scale - mean[i % 3]) / std[i % 3])
  return { values, shape: [1, size[1], size[0], 3] }
}

export async function runOnnx(
  model: ort.InferenceSession,
  input: { values: Float32Array; shape: number[] }
) {
  const results = await model.run({ image: new ort.Tensor('float32', input.values, input.shape) })
  return Object.fromEntries(
    Object.entries(results).map(([name, tensor]) => [
      name,
      { values: tensor.data as Float32Array, shape: [...tensor.dims] },
    ])
  )
}

/**
 * Cosine similarity, and the largest absolute difference relative to the
 * reference's largest magnitude (element-wise ratios would blow up on the
 * near-zero entries every output has).
 */
export function compare(actual: Float32Array, expected: Float32Array) {
  let dot = 0
  let actualNorm = 0
  let expectedNorm = 0
  let maxDifference = 0
  let maxMagnitude = 0
  for (const [i, reference] of expected.entries()) {
    dot += actual[i] * reference
    actualNorm += actual[i] ** 2
    expectedNorm += reference ** 2
    maxDifference = Math.max(maxDifference, Math.abs(actual[i] - reference))
    maxMagnitude = Math.max(maxMagnitude, Math.abs(reference))
  }
  return {
    cosine: dot / Math.sqrt(actualNorm * expectedNorm),
    relativeError: maxDifference / maxMagnitude,
  }
}
