import { readFile } from 'node:fs/promises'
import { crc32, deflateSync } from 'node:zlib'
import { test } from '@japa/runner'
import sharp from 'sharp'
import { ImageDecoder } from '#faces/image_decoder'

const fixtures = new URL('../../fixtures/pairs/', import.meta.url)

function pngChunk(type: string, data: Buffer) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const checksum = Buffer.alloc(4)
  checksum.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, checksum])
}

/** A valid PNG of a few hundred bytes whose header claims 20000×20000 RGB pixels. */
function decompressionBomb() {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(20_000, 0)
  header.writeUInt32BE(20_000, 4)
  header[8] = 8
  header[9] = 2
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

test.group('Image decoder', () => {
  const decoder = new ImageDecoder()

  test('gives upright RGB pixels in shared memory', async ({ assert }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const result = await decoder.decode(bytes)
    assert.isTrue(result.ok)
    if (!result.ok) return
    assert.equal(result.format, 'jpeg')
    assert.deepEqual([result.image.width, result.image.height], [630, 374])
    assert.lengthOf(result.image.data, 630 * 374 * 3)
    assert.instanceOf(result.image.data.buffer, SharedArrayBuffer)
  })

  test('applies the EXIF orientation', async ({ assert }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const tagged = await sharp(bytes).withMetadata({ orientation: 6 }).jpeg().toBuffer()
    const result = await decoder.decode(tagged)
    assert.isTrue(result.ok)
    if (result.ok) assert.deepEqual([result.image.width, result.image.height], [374, 630])
  })

  test('turns grey and transparent images into three channels', async ({ assert }) => {
    const grey = await readFile(new URL('jim_parsons_sheldon1.png', fixtures))
    const transparent = await sharp({
      create: { width: 4, height: 3, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } },
    })
      .png()
      .toBuffer()
    for (const bytes of [grey, transparent]) {
      const result = await decoder.decode(bytes)
      assert.isTrue(result.ok)
      if (result.ok) {
        assert.lengthOf(result.image.data, result.image.width * result.image.height * 3)
      }
    }
    const result = await decoder.decode(transparent)
    if (result.ok) assert.deepEqual([...result.image.data.subarray(0, 3)], [10, 20, 30])
  })

  test('refuses a 20000×20000 PNG from its header, before decoding it', async ({ assert }) => {
    const started = performance.now()
    const result = await decoder.decode(decompressionBomb())
    assert.isBelow(performance.now() - started, 500)
    assert.isFalse(result.ok)
    if (!result.ok) {
      assert.equal(result.error.type, 'too_large')
      assert.include(result.error, { width: 20_000, height: 20_000 })
    }
  })

  test('honours a lower pixel limit', async ({ assert }) => {
    const bytes = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const result = await new ImageDecoder({ maxPixels: 100_000 }).decode(bytes)
    assert.isFalse(result.ok)
    if (!result.ok) assert.equal(result.error.type, 'too_large')
  })

  test('calls truncated or corrupt photos unreadable', async ({ assert }) => {
    const jpeg = await readFile(new URL('kit_harington_02.jpg', fixtures))
    const png = await readFile(new URL('jim_parsons_sheldon1.png', fixtures))
    const corruptHeader = Buffer.from(png)
    corruptHeader.fill(0xff, 8, 40)
    for (const bytes of [
      jpeg.subarray(0, jpeg.length / 2),
      png.subarray(0, png.length / 2),
      jpeg.subarray(0, 24),
      corruptHeader,
      Buffer.alloc(0),
    ]) {
      const result = await decoder.decode(bytes)
      assert.isFalse(result.ok)
      if (!result.ok) assert.equal(result.error.type, 'unreadable', result.error.message)
    }
  })

  test('calls other files not images', async ({ assert }) => {
    for (const bytes of [
      Buffer.from('{"image": "not really"}'),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      Buffer.from('%PDF-1.7\n'),
      Buffer.alloc(64, 0),
    ]) {
      const result = await decoder.decode(bytes)
      assert.isFalse(result.ok)
      if (!result.ok) assert.equal(result.error.type, 'not_image')
    }
  })
})
