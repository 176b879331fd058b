import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import sharp from 'sharp'
import { createPluginHarness, decodeImage, type PluginHarness } from '#plugin-sdk'
import { brightened } from '../low_light.js'
import faceEngine from '../plugin.js'

const fixture = (name: string) =>
  readFile(new URL(`../../../tests/fixtures/pairs/${name}`, import.meta.url))

/** A seeded standard normal generator, so the noise is the same every run. */
function gaussian(seed: number) {
  let state = seed >>> 0
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return (state + 0.5) / 4_294_967_296
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

/** The photo at `gain` of its brightness with sensor noise of σ `sigma`, as a dim camera sees it. */
async function dimmed(name: string, gain: number, sigma: number) {
  const { data, info } = await sharp(await fixture(name))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  const noise = gaussian(7)
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.max(0, Math.min(255, Math.round(data[i] * gain + noise() * sigma)))
  }
  const bytes = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()
  return decodeImage(bytes)
}

test.group('Face engine in low light', (group) => {
  let engine: PluginHarness<'engine', unknown>

  group.setup(async () => {
    engine = await createPluginHarness(faceEngine, { poolSize: 1 })
    await engine.start()
    return () => engine.stop()
  })

  test('a bright picture is left as it is; a dark one is stretched to the full range', async ({
    assert,
  }) => {
    const bright = await dimmed('kit_harington_02.jpg', 1, 0)
    assert.isNull(brightened(bright))
    const dark = await dimmed('kit_harington_02.jpg', 0.1, 8)
    const legible = brightened(dark)!
    assert.exists(legible)
    assert.equal(legible.width, dark.width)
    const mean = (data: Uint8Array) => data.reduce((sum, value) => sum + value, 0) / data.length
    assert.isBelow(mean(dark.data), 30)
    assert.isAbove(mean(legible.data), 80)
  })

  test('a flat dark picture has nothing to stretch', ({ assert }) => {
    const flat = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(12) }
    assert.isNull(brightened(flat))
  })

  test('finds and describes a face at a tenth of the light with strong noise ({name})')
    .with([
      { name: 'kit_harington_02.jpg' },
      { name: 'barack_obama_02.jpg' },
      { name: 'joe_biden_02.jpg' },
    ])
    .run(async ({ assert }, { name }) => {
      const image = await dimmed(name, 0.1, 8)
      const detected = await engine.call((driver) => driver.detect!({ image }))
      assert.isTrue(detected.ok && detected.faces.length === 1, JSON.stringify(detected))
      const embedded = await engine.call((driver) => driver.embed!({ image }))
      assert.isTrue(embedded.ok)
    })

  test('a dark picture without a face shows no face', async ({ assert }) => {
    const noise = gaussian(3)
    const data = new Uint8Array(320 * 240 * 3).map(() =>
      Math.max(0, Math.min(255, Math.round(20 + noise() * 8)))
    )
    const detected = await engine.call((driver) =>
      driver.detect!({ image: { width: 320, height: 240, data } })
    )
    assert.deepEqual(detected, { ok: false, error: { type: 'no_face' } })
  })
})
