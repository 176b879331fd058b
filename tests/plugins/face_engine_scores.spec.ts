import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { createPluginHarness, decodeImage, type PluginHarness } from '#plugin-sdk'
import { FeatureComparator } from '#faces/feature_blob'
import faceEngine from '#plugins/face_engine/plugin'

/**
 * The face engine's features as the server scores them: the real engine
 * on the ONNX models `node ace models:build` makes, compared with the
 * calibrations of models/manifest.json, on the permissively licensed
 * photos of tests/fixtures/pairs. A score of 0.6 is the terminals' match.
 */
const fixtures = new URL('../fixtures/pairs/', import.meta.url)
const decodeFile = (name: string) => decodeImage(new URL(name, fixtures))

test.group('Face engine features, as the server scores them', (group) => {
  let engine: PluginHarness<'engine', unknown>
  let comparator: FeatureComparator

  group.setup(async () => {
    engine = await createPluginHarness(faceEngine, { poolSize: 2 })
    await engine.start()
    comparator = await FeatureComparator.fromManifest('models/manifest.json')
    return () => engine.stop()
  })

  test('scores the same person at 0.6 or more and different people below', async ({ assert }) => {
    const { pairs } = JSON.parse(await readFile(new URL('pairs.json', fixtures), 'utf8')) as {
      pairs: { a: string; b: string; same: boolean }[]
    }
    const names = [...new Set(pairs.flatMap(({ a, b }) => [a, b]))]
    const features = new Map(
      await Promise.all(
        names.map(async (name) => {
          const image = await decodeFile(name)
          const outcome = await engine.call((driver) => driver.embed!({ image }))
          assert.isTrue(outcome.ok, `no face found in ${name}`)
          return [name, outcome.ok ? outcome.feature : null] as const
        })
      )
    )

    const wrong = pairs.filter(({ a, b, same }) => {
      const result = comparator.compare(features.get(a)!, features.get(b)!)
      return !result.ok || result.score >= 0.6 !== same
    })
    assert.deepEqual(wrong, [])
    assert.isAbove(pairs.filter(({ same }) => same).length, 50)
    assert.isAbove(pairs.filter(({ same }) => !same).length, 50)
  }).timeout(60_000)

  test('the turned face still matches the upright one', async ({ assert }) => {
    const embed = async (file: string) => {
      const image = await decodeFile(file)
      const outcome = await engine.call((driver) => driver.embed!({ image }))
      if (!outcome.ok) throw new Error(`no face in ${file}`)
      return outcome.feature
    }
    const upright = await embed('kit_harington_02.jpg')
    for (const turn of [90, 180, 270]) {
      const turned = await embed(`rotated/kit_harington_02_rot${turn}.jpg`)
      const result = comparator.compare(upright, turned)
      assert.isTrue(result.ok && result.score >= 0.6, `${turn}° does not match`)
    }
  })

  test('finds every face of a group, and the one a box points at', async ({ assert }) => {
    const image = await decodeFile('scenes/kit_with_rose.jpg')
    const detected = await engine.call((driver) => driver.detect!({ image }))
    assert.isTrue(detected.ok)
    if (!detected.ok) return
    assert.lengthOf(detected.faces, 2)

    const rose = await engine.call(async (driver) =>
      driver.embed!({ image: await decodeFile('rose_leslie_01.jpg') })
    )
    const scores = []
    for (const face of detected.faces) {
      const outcome = await engine.call((driver) => driver.embed!({ image, face: face.box }))
      assert.isTrue(outcome.ok && rose.ok)
      if (!outcome.ok || !rose.ok) return
      for (const side of ['left', 'top', 'right', 'bottom'] as const) {
        assert.closeTo(outcome.face.box[side], face.box[side], 3, 'the face the box points at')
      }
      const result = comparator.compare(outcome.feature, rose.feature)
      scores.push(result.ok ? result.score : 0)
    }
    assert.equal(scores.filter((score) => score >= 0.6).length, 1, 'exactly one of them is Rose')
  })
})
