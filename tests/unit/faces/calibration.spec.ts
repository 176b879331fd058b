import { test } from '@japa/runner'
import { calibratedScore } from '#faces/feature_blob'
import {
  acceptRate,
  empiricalThreshold,
  fitCalibration,
  rocAuc,
  tarAtFar,
} from '#plugins/face_engine/calibration'

/** A reproducible stream of standard normal numbers (Park–Miller and Box–Muller). */
function normals(seed: number) {
  let state = seed
  const uniform = () => {
    state = (state * 48_271) % 2_147_483_647
    return state / 2_147_483_647
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

/** The face engine's calibration fit, read back through the score the server gives a similarity. */
test.group('Calibration math', () => {
  test('puts 0.6 where at most 1e-3 of impostors reach', ({ assert }) => {
    const next = normals(7)
    const impostors = Array.from({ length: 20_000 }, () => 0.3 + 0.1 * next())
    const genuine = Array.from({ length: 500 }, () => 0.8 + 0.08 * next())
    const calibration = fitCalibration(genuine, impostors, 'synthetic')

    const similarities = calibration.knots.map(([similarity]) => similarity)
    const scores = calibration.knots.map(([, score]) => score)
    assert.deepEqual(
      similarities,
      [...similarities].sort((a, b) => a - b)
    )
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => a - b)
    )
    assert.deepEqual(calibration.knots[0], [-1, 0])
    assert.equal(calibration.knots.at(-1)![1], 1)

    const { similarityAtThreshold, farAtThreshold } = calibration.measured
    assert.isAtMost(farAtThreshold, 1e-3)
    assert.equal(acceptRate(impostors, similarityAtThreshold), farAtThreshold)
    assert.closeTo(calibratedScore(calibration, similarityAtThreshold), 0.6, 1e-9)
    assert.isBelow(calibratedScore(calibration, similarityAtThreshold - 1e-4), 0.6)
    assert.isAtLeast(similarityAtThreshold, empiricalThreshold(impostors, 1e-3))
  })

  test('extends the false-accept rate past the sample with a tail fit', ({ assert }) => {
    const next = normals(11)
    const impostors = Array.from({ length: 2000 }, () => 0.3 + 0.1 * next())
    const calibration = fitCalibration([0.9], impostors, 'synthetic')
    const highest = Math.max(...impostors)
    const knotsAbove = calibration.knots.filter(([similarity]) => similarity > highest)
    assert.isAbove(knotsAbove.length, 2, 'scores 0.7 and up stay distinct past the last impostor')
  })

  test('computes ROC figures', ({ assert }) => {
    assert.equal(rocAuc([0.9, 0.8], [0.1, 0.2]), 1)
    assert.equal(rocAuc([0.1], [0.9]), 0)
    assert.equal(rocAuc([0.5], [0.5]), 0.5)
    const impostors = Array.from({ length: 1000 }, (_, i) => i / 1000)
    assert.closeTo(empiricalThreshold(impostors, 1e-2), 0.989, 1e-6)
    assert.equal(acceptRate(impostors, empiricalThreshold(impostors, 1e-2)), 0.01)
    assert.equal(tarAtFar([0.995, 0.5], impostors, 1e-2), 0.5)
  })
})
