import type { ScoreCalibration } from '#plugin-sdk'

/**
 * Calibration math: from the cosine similarities of genuine pairs (same
 * person) and impostor pairs (different people) to error rates, ROC
 * figures and the similarity → score map that ships in the manifest.
 */

/** The score the terminals treat as a match, and the false-accept rate it must stand for. */
export const matchScore = 0.6
export const matchFar = 1e-3

/**
 * Scores step by 0.1 per decade of false-accept rate: 0.3 where every
 * impostor pair passes, 0.5 at 1e-2, 0.6 at 1e-3, 1.0 at 1e-7. A score
 * then reads as a false-accept rate, whatever the model.
 */
const scoreAtFar = (far: number) => 0.3 - 0.1 * Math.log10(far)
const decades = [0, 1, 2, 3, 4, 5, 6, 7]

/**
 * The lowest similarity that at most `far` of `impostors` reach, from the
 * sample alone.
 */
export function empiricalThreshold(impostors: readonly number[], far: number) {
  const sorted = [...impostors].sort((a, b) => b - a)
  const allowed = Math.floor(far * sorted.length + 1e-9)
  if (allowed >= sorted.length) return -1
  return nextUp(sorted[allowed])
}

export function acceptRate(similarities: readonly number[], threshold: number) {
  if (similarities.length === 0) return 0
  return similarities.filter((similarity) => similarity >= threshold).length / similarities.length
}

/** Genuine pairs accepted at the similarity where `far` of impostors would be. */
export function tarAtFar(genuine: readonly number[], impostors: readonly number[], far: number) {
  return acceptRate(genuine, empiricalThreshold(impostors, far))
}

/** Area under the ROC curve: the chance a genuine pair outscores an impostor pair. */
export function rocAuc(genuine: readonly number[], impostors: readonly number[]) {
  const sorted = [...impostors].sort((a, b) => a - b)
  let wins = 0
  for (const value of genuine) {
    let low = 0
    let high = sorted.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (sorted[middle] < value) low = middle + 1
      else high = middle
    }
    let ties = 0
    while (low + ties < sorted.length && sorted[low + ties] === value) ties++
    wins += low + ties / 2
  }
  return wins / (genuine.length * sorted.length)
}

/**
 * Estimated share of impostor pairs at or above `similarity`: the larger of
 * the sample's own rate and a normal fit's tail, so that past the last
 * impostor seen (about 1 in a few thousand here) the estimate still falls
 * smoothly instead of dropping to zero, and never claims less than the
 * sample shows.
 */
export function estimatedFar(impostors: readonly number[], similarity: number) {
  const mean = impostors.reduce((sum, value) => sum + value, 0) / impostors.length
  const variance =
    impostors.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (impostors.length - 1)
  const tail = normalTail((similarity - mean) / Math.sqrt(variance))
  return Math.max(acceptRate(impostors, similarity), tail)
}

function similarityAtEstimatedFar(impostors: readonly number[], far: number) {
  let low = -1
  let high = 1
  if (estimatedFar(impostors, high) > far) return high
  for (let step = 0; step < 60; step++) {
    const middle = (low + high) / 2
    if (estimatedFar(impostors, middle) > far) low = middle
    else high = middle
  }
  return high
}

export function fitCalibration(
  genuine: readonly number[],
  impostors: readonly number[],
  dataset: string
): ScoreCalibration {
  const knots: [number, number][] = [[-1, 0]]
  for (const decade of decades) {
    const far = 10 ** -decade
    const similarity =
      decade === 0 ? Math.min(...impostors) : similarityAtEstimatedFar(impostors, far)
    const previous = knots[knots.length - 1][0]
    knots.push([Math.max(similarity, previous + 1e-6), scoreAtFar(far)])
  }
  if (knots[knots.length - 1][0] < 1) knots.push([1, 1])
  const rounded = knots.map(([similarity, score]): [number, number] => [
    roundUp(similarity),
    round(score),
  ])
  const threshold = rounded.find(([, score]) => Math.abs(score - matchScore) < 1e-9)![0]
  return {
    metric: 'cosine',
    knots: rounded,
    measured: {
      dataset,
      genuinePairs: genuine.length,
      impostorPairs: impostors.length,
      similarityAtThreshold: threshold,
      farAtThreshold: acceptRate(impostors, threshold),
      frrAtThreshold: 1 - acceptRate(genuine, threshold),
    },
  }
}

/**
 * Upper tail of the standard normal distribution, through erfc with a
 * relative error below 1.2e-7 (Numerical Recipes' erfcc), so that the
 * 1e-7 end of the knots is still right.
 */
function normalTail(z: number) {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.5 * x)
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    )
  return z >= 0 ? erfc / 2 : 1 - erfc / 2
}

function nextUp(value: number) {
  return value + Math.max(1e-9, Math.abs(value) * 1e-9)
}

function round(value: number) {
  return Math.round(value * 1e6) / 1e6
}

/** Knots are stored to six places, rounded up so that no impostor slips under a threshold. */
function roundUp(value: number) {
  return Math.ceil(value * 1e6 - 1e-9) / 1e6
}
