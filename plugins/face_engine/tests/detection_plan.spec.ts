import { test } from '@japa/runner'
import { maxLevels, planLevels } from '../detector.js'

/**
 * The detector's plan of windows ends for every image size and smallest
 * face. 1536×1152 used to plan levels until the worker's heap ran out: the
 * face size recomputed from the finest window came out 28.800000000000004
 * against 28.8 and the loop never ended.
 */
const reachOf = (side: number) => (14 * side) / 256

function checkPlan(width: number, height: number, minFaceSize: number) {
  const levels = planLevels(width, height, minFaceSize)
  const sides = levels.map((level) => level[0].side)
  const windows = levels.reduce((count, level) => count + level.length, 0)
  const smallest = Math.max(minFaceSize, Math.min(width, height) / 40)
  const problems = []
  if (levels.length > 3) problems.push(`${levels.length} levels`)
  if (windows > 160) problems.push(`${windows} windows`)
  if (sides.some((side, index) => index > 0 && side >= sides[index - 1])) {
    problems.push(`sides ${sides.join(', ')} do not shrink`)
  }
  if (reachOf(sides.at(-1)!) > smallest * (1 + 1e-9)) {
    problems.push(`the finest level reaches ${reachOf(sides.at(-1)!)}, not ${smallest}`)
  }
  return problems.length === 0
    ? null
    : `${width}×${height} at ${minFaceSize}: ${problems.join('; ')}`
}

test.group('Detection plan', () => {
  test('ends, in a few levels, for every shorter side from 1 to 10000', ({ assert }) => {
    const failures = []
    for (let shorter = 1; shorter <= 10_000; shorter++) {
      for (const ratio of [1, 4 / 3, 16 / 9, 3]) {
        const longer = Math.round(shorter * ratio)
        for (const minFaceSize of [8, 14.5, 20, 64]) {
          failures.push(checkPlan(longer, shorter, minFaceSize))
          if (ratio === 4 / 3) failures.push(checkPlan(shorter, longer, minFaceSize))
        }
      }
    }
    assert.deepEqual(
      failures.filter((failure) => failure !== null),
      []
    )
  }).timeout(30_000)

  test('ends for {width}×{height} with faces from {minFaceSize} pixels')
    .with([
      { width: 1536, height: 1152, minFaceSize: 20, levels: 2 },
      { width: 2000, height: 1125, minFaceSize: 20, levels: 2 },
      { width: 250, height: 250, minFaceSize: 14.5, levels: 2 },
      { width: 1, height: 10_000, minFaceSize: 8, levels: 3 },
      { width: 10_000, height: 1, minFaceSize: 4_096, levels: 1 },
    ])
    .run(({ assert }, { width, height, minFaceSize, levels }) => {
      assert.isNull(checkPlan(width, height, minFaceSize))
      assert.lengthOf(planLevels(width, height, minFaceSize), levels)
    })

  test('never plans more than its bound, whatever it is given', ({ assert }) => {
    for (const [width, height, minFaceSize] of [
      [Number.MAX_VALUE, 1, 8],
      [Infinity, 480, 20],
      [640, 480, 0],
      [640, 480, Number.MIN_VALUE],
    ]) {
      assert.isAtMost(planLevels(width, height, minFaceSize).length, maxLevels)
    }
  })
})
