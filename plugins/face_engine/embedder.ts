import type { ModelOutputs } from './model_sessions.js'

/** Recognition networks the manifest can hold, and the output each one's descriptor is in. */
export const networkEmbedders = {
  'faceres': 'descriptor',
  'faceres-deep': 'descriptor',
  'faceapi-recognition': 'descriptor',
  'mobileface': 'descriptor',
  'faceplugin-arcface': 'output',
} as const
export type NetworkEmbedder = keyof typeof networkEmbedders

/**
 * Descriptors fused from two networks that err on different faces: each
 * part's unit descriptor scaled by the square root of its weight, side by
 * side, so that the dot product of two fused descriptors is the weighted
 * mean of the parts' cosine similarities. The weights even out the
 * spread of each network's impostor similarities (faceapi-recognition's
 * is a third of ArcFace's), then favour dlib's 0.7 to 1, as measured on
 * faces-lfw-dev: 1:N TPIR at FPIR 1% 91.9% against ArcFace's 89.7% on its
 * open-set split (89.6% against 87.6% over 40 random splits), 1:1
 * accuracy at FAR 1e-3 99.14% against 98.75%, for one dlib pass (about
 * 8 ms) more per face.
 */
export const fusedEmbedders = {
  'arcface-dlib': [
    { model: 'faceplugin-arcface', weight: 0.331 },
    { model: 'faceapi-recognition', weight: 0.669 },
  ],
} as const satisfies Record<string, readonly { model: NetworkEmbedder; weight: number }[]>
export type FusedEmbedder = keyof typeof fusedEmbedders

/** Every recognition model the engine can embed with. */
export type EmbedderModel = NetworkEmbedder | FusedEmbedder
export const embedderModels = [
  ...Object.keys(networkEmbedders),
  ...Object.keys(fusedEmbedders),
] as EmbedderModel[]

export function isEmbedderModel(id: string): id is EmbedderModel {
  return (embedderModels as string[]).includes(id)
}

export function isFused(model: EmbedderModel): model is FusedEmbedder {
  return model in fusedEmbedders
}

/** The networks a model runs: itself, or the parts of a fused one. */
export function networksOf(model: EmbedderModel): NetworkEmbedder[] {
  return isFused(model) ? fusedEmbedders[model].map((part) => part.model) : [model]
}

/** How many values each network's descriptor has. */
const networkLengths: Record<NetworkEmbedder, number> = {
  'faceres': 1024,
  'faceres-deep': 1024,
  'faceapi-recognition': 128,
  'mobileface': 256,
  'faceplugin-arcface': 512,
}

/** How many values a model's feature has: a fused one's parts side by side. */
export function featureLength(model: EmbedderModel) {
  return networksOf(model).reduce((sum, network) => sum + networkLengths[network], 0)
}

/** The model the engine embeds with unless configured: the best measured on faces-lfw-dev. */
export const defaultEmbedder: EmbedderModel = 'arcface-dlib'

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
  /** Flipping both parts gave 0.9 points more TPIR for twice the time. */
  'arcface-dlib': false,
}

/**
 * The model's descriptor scaled to unit length, so that the dot product of
 * two is their cosine similarity whichever model made them.
 */
export function embedding(model: NetworkEmbedder, outputs: ModelOutputs) {
  return unitLength(outputs[networkEmbedders[model]])
}

/**
 * The face and its mirror image embedded, each scaled to unit length,
 * summed and scaled again: a face is about as likely to be seen from
 * either side, and the mean descriptor varies less with pose and light.
 */
export function flipAveragedEmbedding(
  model: NetworkEmbedder,
  outputs: ModelOutputs,
  mirrored: ModelOutputs
) {
  const first = embedding(model, outputs)
  const second = embedding(model, mirrored)
  for (let i = 0; i < first.length; i++) first[i] += second[i]
  return unitLength(first)
}

/** The parts' unit descriptors, in the fused model's order, side by side with their weights. */
export function fusedEmbedding(model: FusedEmbedder, parts: Float32Array[]) {
  const weights = fusedEmbedders[model].map((part) => part.weight)
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  const vector = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  parts.forEach((part, index) => {
    const scale = Math.sqrt(weights[index] / total)
    for (let i = 0; i < part.length; i++) vector[offset + i] = part[i] * scale
    offset += part.length
  })
  return unitLength(vector)
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
