import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import sharp from 'sharp'
import { createPluginHarness, decodeImage, type PluginHarness } from '#plugin-sdk'
import faceEngine from '../plugin.js'

/**
 * Pictures of the sizes that used to stall the engine for the caller's
 * 30 s (the detector's plan never ended), through the running engine.
 */
const fixture = new URL('../../../tests/fixtures/pairs/kit_harington_02.jpg', import.meta.url)

async function pictureOf(width: number, height: number) {
  const bytes = await sharp(await readFile(fixture))
    .resize(width, height, { fit: 'contain', background: '#7f7f7f' })
    .jpeg({ quality: 90 })
    .toBuffer()
  return decodeImage(bytes)
}

test.group('Face engine on awkward picture sizes', (group) => {
  let engine: PluginHarness<'engine', unknown>
  let smallFaces: PluginHarness<'engine', unknown>

  group.setup(async () => {
    engine = await createPluginHarness(faceEngine, { poolSize: 1 })
    smallFaces = await createPluginHarness(faceEngine, { poolSize: 1, minFaceSize: 14.5 })
    await Promise.all([engine.start(), smallFaces.start()])
    return () => Promise.all([engine.stop(), smallFaces.stop()]).then(() => {})
  })

  test('finds the face in a {width}×{height} picture in well under a second or two')
    .with([
      { width: 1536, height: 1152 },
      { width: 2000, height: 1125 },
      { width: 1152, height: 1536 },
      { width: 1536, height: 1153 },
    ])
    .run(async ({ assert }, { width, height }) => {
      const image = await pictureOf(width, height)
      const startedAt = performance.now()
      const detected = await engine.call((driver) => driver.detect!({ image }))
      const embedded = await engine.call((driver) => driver.embed!({ image }))
      assert.isBelow(performance.now() - startedAt, 3_000)
      assert.isTrue(detected.ok && detected.faces.length === 1, JSON.stringify(detected))
      assert.isTrue(embedded.ok)
    })

  test('finds the face in a 250×250 picture when faces from 14.5 pixels are searched', async ({
    assert,
  }) => {
    const image = await pictureOf(250, 250)
    const startedAt = performance.now()
    const detected = await smallFaces.call((driver) => driver.detect!({ image }))
    assert.isBelow(performance.now() - startedAt, 3_000)
    assert.isTrue(detected.ok && detected.faces.length === 1, JSON.stringify(detected))
    const health = await smallFaces.health()
    assert.equal(health.details?.replaced, 0)
  })
})
