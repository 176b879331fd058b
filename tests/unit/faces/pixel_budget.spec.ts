import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { ImageDecoder } from '#faces/image_decoder'
import { PixelBudget } from '#faces/pixel_budget'
import { decodeBudget, withDecodedPhoto } from '#faces/photo_decoding'

const fixtures = new URL('../../fixtures/pairs/', import.meta.url)

/** Whether a promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>) {
  let done = false
  void promise.then(() => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

test.group('Pixel budget', () => {
  test('admits pictures while their pixels fit', async ({ assert }) => {
    const budget = new PixelBudget(100)
    const first = await budget.acquire(60, 0)
    const second = await budget.acquire(40, 0)
    assert.isNotNull(first)
    assert.isNotNull(second)
    assert.equal(budget.held, 100)
    second!.release()
    second!.release()
    assert.equal(budget.held, 60, 'a second release gives nothing back twice')
  })

  test('a picture that does not fit waits until pixels are released', async ({ assert }) => {
    const budget = new PixelBudget(100)
    const held = await budget.acquire(70, 0)
    const waiting = budget.acquire(50, 5000)
    assert.isFalse(await settled(waiting))
    assert.equal(budget.waiting, 1)
    held!.release()
    const admitted = await waiting
    assert.equal(admitted?.pixels, 50)
    assert.equal(budget.held, 50)
    assert.equal(budget.waiting, 0)
  })

  test('refuses a picture that did not fit in time, and one that never could', async ({
    assert,
  }) => {
    const budget = new PixelBudget(100)
    const held = await budget.acquire(70, 0)
    const started = performance.now()
    assert.isNull(await budget.acquire(50, 50))
    assert.isAtLeast(performance.now() - started, 45)
    assert.isNull(await budget.acquire(50, 0))
    assert.equal(budget.waiting, 0)

    const started2 = performance.now()
    assert.isNull(await budget.acquire(101, 5000))
    assert.isBelow(performance.now() - started2, 100, 'refused at once, without waiting')
    held!.release()
    assert.equal(budget.held, 0)
  })

  test('first come, first served: small pictures do not pass a large one', async ({ assert }) => {
    const budget = new PixelBudget(100)
    const held = await budget.acquire(60, 0)
    const large = budget.acquire(80, 5000)
    const small = budget.acquire(10, 5000)
    assert.isFalse(await settled(small), 'the small one waits behind the large one')
    held!.release()
    const [largeLease, smallLease] = await Promise.all([large, small])
    assert.deepEqual([largeLease?.pixels, smallLease?.pixels], [80, 10])
    assert.equal(budget.held, 90)
  })

  test('when the head of the queue gives up, the pictures behind it get their turn', async ({
    assert,
  }) => {
    const budget = new PixelBudget(100)
    await budget.acquire(60, 0)
    const large = budget.acquire(80, 50)
    const small = budget.acquire(10, 5000)
    assert.isNull(await large)
    const admitted = await small
    assert.equal(admitted?.pixels, 10)
    assert.equal(budget.held, 70)
  })
})

test.group('Pixel budget: decoding', () => {
  test('decoded pixels hold the budget until released', async ({ assert }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const pixels = new PixelBudget(1_000_000)
    const decoder = new ImageDecoder({ budget: { pixels, waitMs: 0 } })
    const result = await decoder.decode(bytes)
    assert.isTrue(result.ok)
    assert.equal(pixels.held, 630 * 374)
    if (result.ok) result.release()
    assert.equal(pixels.held, 0)
  })

  test('a picture that does not fit beside others is refused as too large', async ({ assert }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const pixels = new PixelBudget(300_000)
    const decoder = new ImageDecoder({ budget: { pixels, waitMs: 20 } })
    const first = await decoder.decode(bytes)
    const second = await decoder.decode(bytes)
    assert.isTrue(first.ok)
    assert.isFalse(second.ok)
    if (!second.ok) {
      assert.equal(second.error.type, 'too_large')
      assert.match(second.error.message, /did not fit within 20 ms/)
    }
    const tiny = await new ImageDecoder({
      budget: { pixels: new PixelBudget(1000), waitMs: 0 },
    }).decode(bytes)
    assert.isFalse(tiny.ok)
    if (!tiny.ok) assert.match(tiny.error.message, /more than the 1000 pixels the server decodes/)
  })

  test('a picture that fails to decode gives its pixels back', async ({ assert }) => {
    const jpeg = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const pixels = new PixelBudget(1_000_000)
    const decoder = new ImageDecoder({ budget: { pixels, waitMs: 0 } })
    const result = await decoder.decode(jpeg.subarray(0, jpeg.length / 2))
    assert.isFalse(result.ok)
    if (!result.ok) {
      assert.equal(result.error.type, 'unreadable')
      assert.match(result.error.message, /data cannot be decoded/, 'it failed after admission')
    }
    assert.equal(pixels.held, 0)
  })

  test('withDecodedPhoto holds the pixels while its work runs, also when the work fails', async ({
    assert,
  }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const before = decodeBudget.held
    const heldDuring = await withDecodedPhoto(bytes, 'image', async () => decodeBudget.held)
    assert.equal(heldDuring, before + 630 * 374)
    assert.equal(decodeBudget.held, before)

    await assert.rejects(() =>
      withDecodedPhoto(bytes, 'image', async () => {
        throw new Error('the engine failed')
      })
    )
    assert.equal(decodeBudget.held, before)
  })
})
