/**
 * The 1:N decision of faceIdentify. A 1:1 score reads as a false-accept
 * rate (the calibration puts score = 0.3 − 0.1·log10(FAR) for every model,
 * so 0.6 is one impostor pair in a thousand). A search compares a
 * stranger with every enrolled face, and each comparison is another
 * chance to be taken for someone: with N faces the false-positive
 * identification rate is 1 − (1 − FAR)^N. The threshold is therefore
 * derived from the gallery size so that the FPIR stays at its target,
 * never below the 1:1 threshold; and the best person must lead the next
 * one by a margin, so that of two people who look alike neither is named.
 */

/** The calibrated score from which two faces are the same person, as terminals use it. */
export const matchThreshold = 0.6

/** The false-accept rate one comparison at `score` stands for. */
export function farAtScore(score: number) {
  return 10 ** (3 - 10 * score)
}

/** The score at which one comparison has a false-accept rate of `far`. */
export function scoreAtFar(far: number) {
  return 0.3 - 0.1 * Math.log10(far)
}

/** How far the best person must lead the next one unless a site sets IDENTIFY_MARGIN. */
export const defaultMargin = 0.03

export type OpenSetPolicy = {
  /** The false-positive identification rate to hold, e.g. 0.01. */
  targetFpir: number
  /** How far the best person's score must lead the next person's. */
  margin: number
}

/**
 * The score from which a search over `galleryFaces` faces names someone:
 * the per-comparison FAR q with 1 − (1 − q)^N = target, as a score.
 */
export function identificationThreshold(galleryFaces: number, targetFpir: number) {
  if (galleryFaces < 1) return matchThreshold
  const target = Math.min(Math.max(targetFpir, 1e-12), 0.5)
  // q = 1 − (1 − f)^(1/N), computed without losing q to rounding for large N.
  const perComparison = -Math.expm1(Math.log1p(-target) / galleryFaces)
  return Math.min(1, Math.max(matchThreshold, scoreAtFar(perComparison)))
}

/** The FPIR a threshold gives over `galleryFaces` faces, by the calibration. */
export function expectedFpir(galleryFaces: number, threshold: number) {
  if (galleryFaces < 1) return 0
  const far = Math.min(1, farAtScore(threshold))
  return -Math.expm1(galleryFaces * Math.log1p(-far))
}

export type Candidate = { personId: number; score: number }

export type OpenSetDecision<Match extends Candidate> =
  | { named: true; match: Match; runnerUp: number | null }
  | {
      named: false
      reason: 'below_threshold' | 'ambiguous'
      best: Match | null
      runnerUp: number | null
    }

/**
 * Whom a search names, from its matches (best first; several may be faces
 * of one person): the best person when they reach the threshold and lead
 * the next person by the margin, else nobody.
 */
export function decideOpenSet<Match extends Candidate>(
  matches: readonly Match[],
  threshold: number,
  margin: number
): OpenSetDecision<Match> {
  const best = matches[0] ?? null
  const next = best ? matches.find((match) => match.personId !== best.personId) : undefined
  const runnerUp = next?.score ?? null
  if (!best || best.score < threshold) {
    return { named: false, reason: 'below_threshold', best, runnerUp }
  }
  if (runnerUp !== null && best.score - runnerUp < margin) {
    return { named: false, reason: 'ambiguous', best, runnerUp }
  }
  return { named: true, match: best, runnerUp }
}
