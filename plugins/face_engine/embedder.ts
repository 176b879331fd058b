import type { ModelOutputs } from './model_sessions.js'

/** Recognition models the manifest can hold, and the output each one's descriptor is in. */
export const embedderModels = {
  'faceres': 'descriptor',
  'faceapi-recognition': 'descriptor',
} as const
export type EmbedderModel = keyof typeof embedderModels

/**
 * The model's descriptor scaled to unit length, so that the dot product of
 * two is their cosine similarity whichever model made them.
 */
export function embedding(model: EmbedderModel, outputs: ModelOutputs) {
  const descriptor = outputs[embedderModels[model]]
  let norm = 0
  for (const value of descriptor) norm += value * value
  norm = Math.sqrt(norm)
  const vector = new Float32Array(descriptor.length)
  if (norm === 0) return vector
  for (let i = 0; i < descriptor.length; i++) vector[i] = descriptor[i] / norm
  return vector
}
