import { test } from '@japa/runner'
import {
  decideOpenSet,
  expectedFpir,
  farAtScore,
  identificationThreshold,
  scoreAtFar,
} from '#faces/open_set_identification'
import { matchThreshold } from '#faces/recognition_engine'

/** A seeded uniform generator in (0, 1), so a failure replays. */
function uniform(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4_294_967_296
  }
}

test.group('Open-set identification: the threshold for a gallery size', () => {
  test('the score scale reads as a false-accept rate: 0.6 is 1e-3, 0.8 is 1e-5', ({ assert }) => {
    assert.closeTo(farAtScore(0.6), 1e-3, 1e-12)
    assert.closeTo(farAtScore(0.8), 1e-5, 1e-14)
    assert.closeTo(scoreAtFar(1e-4), 0.7, 1e-12)
  })

  test('a gallery of {faces} faces at an FPIR of 1% gives {threshold}')
    .with([
      { faces: 0, threshold: matchThreshold },
      { faces: 1, threshold: matchThreshold },
      { faces: 10, threshold: 0.6 },
      { faces: 1_000, threshold: 0.7998 },
      { faces: 10_000, threshold: 0.8998 },
      { faces: 100_000, threshold: 0.9998 },
      { faces: 10_000_000, threshold: 1 },
    ])
    .run(({ assert }, { faces, threshold }) => {
      assert.closeTo(identificationThreshold(faces, 0.01), threshold, 1e-4)
    })

  test('the threshold rises with the gallery and falls with a looser target', ({ assert }) => {
    let previous = 0
    for (const faces of [1, 50, 500, 5_000, 50_000]) {
      const threshold = identificationThreshold(faces, 0.01)
      assert.isAtLeast(threshold, previous)
      assert.isAtLeast(threshold, matchThreshold)
      previous = threshold
    }
    assert.isBelow(identificationThreshold(1000, 0.05), identificationThreshold(1000, 0.01))
    assert.isAbove(identificationThreshold(1000, 0.001), identificationThreshold(1000, 0.01))
  })

  test('the threshold gives back the target FPIR it was derived from ({faces} faces)')
    .with([{ faces: 200 }, { faces: 1_000 }, { faces: 65_536 }])
    .run(({ assert }, { faces }) => {
      for (const target of [0.01, 0.05]) {
        const threshold = identificationThreshold(faces, target)
        assert.closeTo(expectedFpir(faces, threshold), target, target * 1e-6)
      }
    })

  test('a target the calibrated scale cannot reach says so: the FPIR at 1 is above it', ({
    assert,
  }) => {
    // The scale ends at 1, a false-accept rate of 1e-7: 65,536 faces at 0.1 %
    // would need 1.5e-8.
    const threshold = identificationThreshold(65_536, 0.001)
    assert.equal(threshold, 1)
    assert.closeTo(expectedFpir(65_536, threshold), 0.0065, 0.0001)
  })

  test('strangers drawn from the calibrated impostor tail are named at the target rate', ({
    assert,
  }) => {
    // Each comparison's score has P(score ≥ s) = FAR(s), as the calibration
    // says; a stranger compared with every face is named when the best
    // reaches the threshold.
    const faces = 1_000
    const strangers = 4_000
    const threshold = identificationThreshold(faces, 0.01)
    const next = uniform(7)
    let named = 0
    for (let stranger = 0; stranger < strangers; stranger++) {
      let best = 0
      for (let face = 0; face < faces; face++) best = Math.max(best, scoreAtFar(next()))
      if (best >= threshold) named++
    }
    // 40 expected; a binomial standard deviation is about 6.3.
    assert.isAbove(named, 40 - 4 * 6.3)
    assert.isBelow(named, 40 + 4 * 6.3)
  })
})

test.group('Open-set identification: whom a search names', () => {
  const match = (personId: number, score: number) => ({ personId, score, faceId: personId * 10 })

  test('nobody when nothing was found or the best is below the threshold', ({ assert }) => {
    assert.deepEqual(decideOpenSet([], 0.8, 0.03), {
      named: false,
      reason: 'below_threshold',
      best: null,
      runnerUp: null,
    })
    const low = decideOpenSet([match(1, 0.79), match(2, 0.5)], 0.8, 0.03)
    assert.include(low, { named: false, reason: 'below_threshold', runnerUp: 0.5 })
  })

  test('the best person when they lead the next person by the margin', ({ assert }) => {
    const decision = decideOpenSet([match(1, 0.9), match(2, 0.86)], 0.8, 0.03)
    assert.deepEqual(decision, { named: true, match: match(1, 0.9), runnerUp: 0.86 })
  })

  test('nobody when two people are within the margin, however high both score', ({ assert }) => {
    const decision = decideOpenSet([match(1, 0.95), match(2, 0.93)], 0.8, 0.03)
    assert.include(decision, { named: false, reason: 'ambiguous', runnerUp: 0.93 })
  })

  test("the person's own other faces are no rival: the runner-up is the next person", ({
    assert,
  }) => {
    const decision = decideOpenSet(
      [match(1, 0.95), match(1, 0.94), match(1, 0.9), match(3, 0.7)],
      0.8,
      0.03
    )
    assert.deepEqual(decision, { named: true, match: match(1, 0.95), runnerUp: 0.7 })
    const alone = decideOpenSet([match(1, 0.95), match(1, 0.94)], 0.8, 0.03)
    assert.deepEqual(alone, { named: true, match: match(1, 0.95), runnerUp: null })
  })
})
