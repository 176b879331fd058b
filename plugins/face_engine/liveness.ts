import type { LivenessScores } from '#plugin-sdk'
import type { ModelOutputs } from './model_sessions.js'

/**
 * Both of human's liveness models, reported side by side as scores: each
 * was trained on a different small data set and neither is a certified
 * presentation-attack detector, so the caller decides how to combine them.
 */
export function livenessScores(antispoof: ModelOutputs, liveness: ModelOutputs): LivenessScores {
  return { antispoof: antispoof.real[0], liveness: liveness.live[0] }
}
