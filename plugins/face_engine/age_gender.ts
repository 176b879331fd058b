import type { ModelOutputs } from './model_sessions.js'

export const ageGenderModels = ['faceres', 'faceapi-age-gender'] as const
export type AgeGenderModel = (typeof ageGenderModels)[number]

export interface AgeGenderEstimate {
  /** Years. */
  age: number
  /** Probability that the face is a woman's, as the model's binary label has it. */
  female: number
}

export function estimateAgeGender(model: AgeGenderModel, outputs: ModelOutputs): AgeGenderEstimate {
  if (model === 'faceapi-age-gender') {
    return { age: Math.max(0, outputs.age[0]), female: outputs.gender[1] }
  }
  return { age: expectedAge(outputs.age), female: 1 - outputs.gender[0] }
}

/**
 * FaceRes gives a distribution over one-year bins; its expectation is a
 * steadier estimate than the peak, which jumps between neighbouring bins.
 */
function expectedAge(bins: Float32Array) {
  let total = 0
  let weighted = 0
  for (const [year, probability] of bins.entries()) {
    total += probability
    weighted += year * probability
  }
  return total > 0 ? weighted / total : 0
}
