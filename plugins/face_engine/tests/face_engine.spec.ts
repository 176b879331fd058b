import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { test } from '@japa/runner'
import sharp from 'sharp'
import {
  createPluginHarness,
  decodeImage,
  PluginCommandError,
  PluginError,
  type PluginHarness,
} from '#plugin-sdk'
import faceEngine from '../plugin.js'
import { defaultEmbedder, featureLength } from '../embedder.js'

/**
 * The real engine on the ONNX models `node ace models:build` makes, with
 * the permissively licensed photos of tests/fixtures/pairs.
 */
const fixtures = new URL('../../../tests/fixtures/pairs/', import.meta.url)
const decodeFile = (name: string) => decodeImage(new URL(name, fixtures))

test.group('Face engine on ONNX Runtime', (group) => {
  let engine: PluginHarness<'engine', unknown>

  group.setup(async () => {
    engine = await createPluginHarness(faceEngine, { poolSize: 2 })
    await engine.start()
    return () => engine.stop()
  })

  test('finds a face turned {turn} and reports angle code {code}')
    .with([
      { turn: '0°', file: 'kit_harington_02.jpg', code: 1 },
      { turn: '30°', file: 'rotated/kit_harington_02_rot30.jpg', code: 5 },
      { turn: '90°', file: 'rotated/kit_harington_02_rot90.jpg', code: 2 },
      { turn: '180°', file: 'rotated/kit_harington_02_rot180.jpg', code: 4 },
      { turn: '270°', file: 'rotated/kit_harington_02_rot270.jpg', code: 3 },
    ])
    .run(async ({ assert }, { file, code }) => {
      const outcome = await engine.call(async (driver) =>
        driver.detect!({ image: await decodeFile(file) })
      )
      assert.isTrue(outcome.ok)
      if (!outcome.ok) return
      assert.lengthOf(outcome.faces, 1)
      assert.equal(outcome.faces[0].angleCode, code)
    })

  test('reports no face in a photo without one', async ({ assert }) => {
    const image = await decodeFile('scenes/rocket.jpg')
    const outcomes = await Promise.all([
      engine.call((driver) => driver.detect!({ image })),
      engine.call((driver) => driver.embed!({ image })),
      engine.call((driver) => driver.age!({ image })),
      engine.call((driver) => driver.quality!({ image })),
    ])
    for (const outcome of outcomes) {
      assert.deepEqual(outcome, { ok: false, error: { type: 'no_face' } })
    }
  })

  test('estimates age and gender, liveness scores and quality in one pass', async ({ assert }) => {
    const image = await decodeFile('barack_obama_01.jpg')
    const outcome = await engine.call((driver) =>
      driver.analyse!(
        { image },
        { feature: true, ageGender: true, liveness: true, quality: true, aligned: true }
      )
    )
    assert.isTrue(outcome.ok)
    if (!outcome.ok) return
    assert.equal(outcome.feature!.model, defaultEmbedder)
    assert.lengthOf(outcome.feature!.vector, featureLength(defaultEmbedder))
    assert.isAbove(outcome.age!, 35)
    assert.isBelow(outcome.age!, 65)
    assert.equal(outcome.gender, 'male')
    for (const score of Object.values(outcome.liveness!)) {
      assert.isAtLeast(score, 0)
      assert.isAtMost(score, 1)
    }
    assert.isTrue(outcome.quality!.acceptable, JSON.stringify(outcome.quality!.issues))
    assert.equal(outcome.aligned!.width, 112)
    assert.lengthOf(outcome.aligned!.data, 112 * 112 * 3)
    for (const stage of ['detect', 'landmarks', 'align', 'embed', 'ageGender', 'liveness']) {
      assert.isAbove(outcome.timings[stage], 0, stage)
    }
  })

  test('says what to do about a face that is too small or too dark', async ({ assert }) => {
    const original = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const quality = async (bytes: Buffer) => {
      const image = await decodeImage(bytes)
      const outcome = await engine.call((driver) => driver.quality!({ image }))
      if (!outcome.ok) throw new Error('no face')
      return outcome.quality
    }

    const small = await quality(await sharp(original).resize({ width: 160 }).toBuffer())
    assert.isFalse(small.acceptable)
    assert.deepInclude(small.issues, { code: 'too_small', message: 'Move closer' })

    const dark = await quality(await sharp(original).linear(0.15, 0).toBuffer())
    assert.deepInclude(dark.issues, { code: 'dark', message: 'Find more light' })
    assert.isBelow(dark.score, 1)
  })

  test('keeps the event loop free while it works', async ({ assert }) => {
    const image = await decodeFile('barack_obama_01.jpg')
    const delay = monitorEventLoopDelay({ resolution: 5 })
    delay.enable()
    await Promise.all(
      Array.from({ length: 4 }, () => engine.call((driver) => driver.detect!({ image })))
    )
    delay.disable()
    assert.isBelow(delay.max / 1e6, 100)
  })

  test('runs on as many workers as configured', async ({ assert }) => {
    const health = await engine.health()
    assert.equal(health.status, 'ok')
    assert.equal(health.details?.workers, 2)
    assert.equal(health.details?.embedder, defaultEmbedder)
  })

  test('refuses to start without built models, and says how to build them', async ({ assert }) => {
    const folder = await mkdtemp(join(tmpdir(), 'face-engine-'))
    try {
      const empty = await createPluginHarness(faceEngine, { modelsDir: folder })
      const error = await empty.start().catch((caught) => caught)
      assert.instanceOf(error, PluginError)
      assert.equal(error.code, 'E_ENGINE_MODELS')
      assert.include(error.message, 'node ace models:build')
      const health = await empty.health()
      assert.equal(health.status, 'error')
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  test('embeds with another recognition model when asked, loading it on first use in every worker', async ({
    assert,
  }) => {
    assert.equal(engine.driver.embedder, defaultEmbedder)
    const image = await decodeFile('kit_harington_01.jpg')
    const same = await decodeFile('kit_harington_02.jpg')
    const embedded = await Promise.all(
      [image, same, image, same].map((picture) =>
        engine.call((driver) => driver.embed!({ image: picture }, 'mobileface'))
      )
    )
    const features = embedded.map((outcome) => {
      assert.isTrue(outcome.ok)
      return outcome.ok ? outcome.feature : null
    })
    for (const feature of features) assert.equal(feature!.model, 'mobileface')
    assert.deepEqual(features[0]!.vector, features[2]!.vector, 'both workers run the same model')
    let dot = 0
    for (let i = 0; i < features[0]!.vector.length; i++) {
      dot += features[0]!.vector[i] * features[1]!.vector[i]
    }
    assert.isAbove(dot, 0.5, 'two photos of the same man are near in mobileface')

    const usual = await engine.call((driver) => driver.embed!({ image }))
    assert.isTrue(usual.ok && usual.feature.model === defaultEmbedder)
    const analysed = await engine.call((driver) =>
      driver.analyse!({ image }, { feature: true, embedder: 'mobileface' })
    )
    assert.isTrue(analysed.ok && analysed.feature?.model === 'mobileface')
    await assert.rejects(
      () => engine.call((driver) => driver.embed!({ image }, 'no-such-model')),
      /not a recognition model/
    )
  })

  test('refuses an image whose pixels do not match its size', async ({ assert }) => {
    const image = { width: 10, height: 10, data: new Uint8Array(10) }
    await assert.rejects(() => engine.driver.detect!({ image }), PluginCommandError)
  })
})
