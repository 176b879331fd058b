import type { ScoreCalibration } from '#plugin-sdk'

/**
 * Calibration math: from the cosine similarities of genuine pairs (same
 * person) and impostor pairs (different people) to error rates, ROC
 * figures and the similarity → score map that ships in the manifest.
 */

/** The score the terminals treat as a match; it stands for a false-accept rate of 1e-3. */
const matchScore = 0.6

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
  const sorted = descending(impostors)
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
  const sorted = Float64Array.from(impostors).sort()
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
 * The share of impostor pairs at or above a similarity, estimated from the
 * sample and, past its top 5% (or top thousand pairs, whichever is fewer),
 * from an exponential tail fitted to those
 * (peaks over threshold, the usual extreme-value model of score tails).
 * With a few thousand pairs the sample alone says nothing beyond about 1
 * in a few thousand and its highest pairs are single accidents; the tail
 * fit reads the whole top 5% instead. The estimate never claims less than
 * the sample shows.
 */
export function farEstimator(impostors: readonly number[]) {
  const sorted = descending(impostors)
  const count = Math.max(10, Math.round(Math.min(tailShare * sorted.length, tailPairs)))
  const onset = sorted[Math.min(count, sorted.length - 1)]
  const meanExcess = sorted.slice(0, count).reduce((sum, value) => sum + value - onset, 0) / count
  const share = count / sorted.length
  return (similarity: number) => {
    const sampled = sortedAcceptRate(sorted, similarity)
    if (similarity <= onset || meanExcess <= 0) return sampled
    return Math.max(sampled, share * Math.exp(-(similarity - onset) / meanExcess))
  }
}

const tailShare = 0.05
/**
 * With millions of impostor pairs (every cross-identity pair of a few
 * thousand images) the sample itself is exact down to about 1e-4, so the
 * tail is fitted to the top thousand pairs only and takes over where the
 * sample runs thin.
 */
const tailPairs = 1000

function similarityAtFar(estimate: (similarity: number) => number, far: number) {
  let low = -1
  let high = 1
  if (estimate(high) > far) return high
  for (let step = 0; step < 60; step++) {
    const middle = (low + high) / 2
    if (estimate(middle) > far) low = middle
    else high = middle
  }
  return high
}

export function fitCalibration(
  genuine: readonly number[],
  impostors: readonly number[],
  dataset: string
): ScoreCalibration {
  const estimate = farEstimator(impostors)
  const knots: [number, number][] = [[-1, 0]]
  for (const decade of decades) {
    const far = 10 ** -decade
    const similarity =
      decade === 0
        ? impostors.reduce((low, value) => Math.min(low, value), Infinity)
        : similarityAtFar(estimate, far)
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
 * Numeric sort of a typed copy: calibrating on every cross-identity pair
 * of a few thousand images means millions of similarities.
 */
function descending(values: readonly number[]) {
  return Float64Array.from(values).sort().reverse()
}

/** acceptRate on a descending array, by binary search. */
function sortedAcceptRate(sorted: Float64Array, threshold: number) {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (sorted[middle] >= threshold) low = middle + 1
    else high = middle
  }
  return sorted.length === 0 ? 0 : low / sorted.length
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
