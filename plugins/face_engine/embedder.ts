import type { ModelOutputs } from './model_sessions.js'

/** Recognition models the manifest can hold, and the output each one's descriptor is in. */
export const embedderModels = {
  'faceres': 'descriptor',
  'faceres-deep': 'descriptor',
  'faceapi-recognition': 'descriptor',
  'mobileface': 'descriptor',
  'faceplugin-arcface': 'output',
} as const
export type EmbedderModel = keyof typeof embedderModels

/** The model the engine embeds with unless configured: the best measured on faces-lfw-dev. */
export const defaultEmbedder: EmbedderModel = 'faceplugin-arcface'

/**
 * Whether averaging a face with its mirror image helps each model, as
 * measured on faces-lfw-dev (bench:engine --flip=both): two points of 1:N
 * TPIR for dlib's ResNet, nothing for the ArcFace model but twice the
 * time. Calibrations are fitted the same way.
 */
export const flipsByDefault: Record<EmbedderModel, boolean> = {
  'faceres': true,
  'faceres-deep': true,
  'faceapi-recognition': true,
  'mobileface': true,
  'faceplugin-arcface': false,
}

/**
 * The model's descriptor scaled to unit length, so that the dot product of
 * two is their cosine similarity whichever model made them.
 */
export function embedding(model: EmbedderModel, outputs: ModelOutputs) {
  return unitLength(outputs[embedderModels[model]])
}

/**
 * The face and its mirror image embedded, each scaled to unit length,
 * summed and scaled again: a face is about as likely to be seen from
 * either side, and the mean descriptor varies less with pose and light.
 */
export function flipAveragedEmbedding(
  model: EmbedderModel,
  outputs: ModelOutputs,
  mirrored: ModelOutputs
) {
  const first = embedding(model, outputs)
  const second = embedding(model, mirrored)
  for (let i = 0; i < first.length; i++) first[i] += second[i]
  return unitLength(first)
}

function unitLength(descriptor: Float32Array) {
  let norm = 0
  for (const value of descriptor) norm += value * value
  norm = Math.sqrt(norm)
  const vector = new Float32Array(descriptor.length)
  if (norm === 0) return vector
  for (let i = 0; i < descriptor.length; i++) vector[i] = descriptor[i] / norm
  return vector
}
