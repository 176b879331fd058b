import type { ModelOutputs } from './model_sessions.js'

/** Age and gender estimators, and the manifest models each one runs. */
export const ageGenderSources = {
  'faceres': ['faceres'],
  'faceres-deep': ['faceres-deep'],
  'faceapi-age-gender': ['faceapi-age-gender'],
  'gear': ['gear'],
  'ssrnet': ['ssrnet-age', 'ssrnet-gender'],
} as const
export type AgeGenderModel = keyof typeof ageGenderSources
export const ageGenderModels = Object.keys(ageGenderSources) as AgeGenderModel[]

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
  if (model === 'gear') return { age: gearAge(outputs.age), female: outputs.gender[1] }
  /* SSR-Net's gender is one regressed value, 1 for a man (IMDB-WIKI's labels). */
  if (model === 'ssrnet') {
    return { age: Math.max(0, outputs.age[0]), female: clamp01(1 - outputs.gender[0]) }
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

/** The weight human gives each of GEAR's seven age bands. */
const gearBandAges = [15, 23, 28, 35.5, 45.5, 55.5, 65]

/**
 * human's reading of GEAR's bands: start at the likeliest band and move
 * towards each other band by its probability, likeliest first.
 */
function gearAge(bands: Float32Array) {
  const ranked = [...bands]
    .map((probability, band) => ({ age: gearBandAges[band], probability }))
    .sort((first, second) => second.probability - first.probability)
  let age = ranked[0].age
  for (const { age: bandAge, probability } of ranked.slice(1)) age += probability * (bandAge - age)
  return age
}

function clamp01(value: number) {
  return Math.min(1, Math.max(0, value))
}
