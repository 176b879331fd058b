import type { FaceFeature } from '#plugin-sdk'
import { encodeFeature } from '#faces/feature_blob'

export type StoredEmbedding = { embedding: Buffer; modelId: string; dimension: number }

/** How `faces.embedding` holds a vector: float32, little-endian, `dimension` of them. */
export function embeddingBytes(vector: Float32Array) {
  const bytes = Buffer.alloc(vector.length * 4)
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4))
  return bytes
}

export function storedFeature({ embedding, modelId, dimension }: StoredEmbedding): FaceFeature {
  const vector = new Float32Array(dimension)
  for (let i = 0; i < dimension; i++) vector[i] = embedding.readFloatLE(i * 4)
  return { model: modelId, vector }
}

/**
 * The protocol's `faceData` for a stored face: the versioned feature blob,
 * which names the model so that a terminal with another model refuses it.
 */
export function faceDataOf(face: StoredEmbedding) {
  return encodeFeature(storedFeature(face))
}
