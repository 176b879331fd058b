import sharp, { type Metadata } from 'sharp'
import type { DecodedImage } from '#plugin-sdk'
import type { PixelBudget, PixelLease } from '#faces/pixel_budget'

/**
 * Why an upload could not become pixels. The terminal protocol answers
 * `unreadable` with 9113 (failed to read file), `not_image` with 69640
 * (image format unsupported) and `too_large` with 69642 (image size too
 * large).
 */
export type ImageDecodeError =
  | { type: 'unreadable'; message: string }
  | { type: 'not_image'; message: string }
  | { type: 'too_large'; message: string; width: number; height: number }

/**
 * Decoded pixels, with `release` to call once they are no longer needed:
 * it gives their pixels back to the decoder's budget (a no-op without one).
 */
export type ImageDecodeResult =
  | { ok: true; image: DecodedImage; format: string; release: () => void }
  | { ok: false; error: ImageDecodeError }

/**
 * A budget shared by every decoder that is given it, and how long a
 * picture may wait for its pixels to fit before it is refused as too large.
 */
export type DecodeBudget = { pixels: PixelBudget; waitMs: number }

/** Photo formats terminals and browsers send; SVG and PDF are documents, not photos. */
const photoFormats = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'])

/**
 * The first bytes of each accepted format. Bytes that start like a photo
 * but do not decode are a damaged file (9113); anything else is not a
 * photo at all (69640).
 */
const signatures: { format: string; test: (bytes: Uint8Array) => boolean }[] = [
  { format: 'jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: 'png', test: (b) => ascii(b, 1, 4) === 'PNG' && b[0] === 0x89 },
  { format: 'gif', test: (b) => ascii(b, 0, 4) === 'GIF8' },
  { format: 'webp', test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
  { format: 'tiff', test: (b) => ['II*\0', 'MM\0*'].includes(ascii(b, 0, 4)) },
  { format: 'heif', test: (b) => ascii(b, 4, 8) === 'ftyp' },
]

function ascii(bytes: Uint8Array, start: number, end: number) {
  return String.fromCharCode(...bytes.subarray(start, end))
}

/**
 * Turns an uploaded file into upright 8-bit RGB, once per request. The
 * pixel count is checked from the header before anything is decoded, so a
 * small file claiming 20000×20000 pixels (a decompression bomb) is refused
 * without allocating them; sharp enforces the same limit again while
 * decoding. EXIF orientation is applied, alpha dropped, grey and CMYK
 * converted to sRGB. The pixels land in a SharedArrayBuffer so that the
 * engine's workers read them without a copy.
 *
 * With a budget, a picture is decoded only once its pixel count (from the
 * header) fits in it, and holds it until released: a picture that does
 * not fit in time is refused as too large, instead of growing the heap.
 */
export class ImageDecoder {
  /** 40 megapixels: every phone and terminal camera, with room to spare. */
  static readonly defaultMaxPixels = 40_000_000

  constructor(private options: { maxPixels?: number; budget?: DecodeBudget } = {}) {}

  get maxPixels() {
    return this.options.maxPixels ?? ImageDecoder.defaultMaxPixels
  }

  async decode(bytes: Uint8Array): Promise<ImageDecodeResult> {
    if (bytes.length === 0) return failure('unreadable', 'The file is empty')
    const signature = signatures.find(({ test }) => test(bytes))
    if (!signature) {
      return failure('not_image', 'The file is not a JPEG, PNG, WebP, GIF, TIFF or HEIF image')
    }

    let header: Metadata
    try {
      header = await sharp(bytes, { limitInputPixels: false }).metadata()
    } catch (error) {
      return failure(
        'unreadable',
        `The ${signature.format} header cannot be read: ${reason(error)}`
      )
    }
    if (!header.format || !photoFormats.has(header.format)) {
      return failure('not_image', `${header.format ?? 'This'} format is not accepted`)
    }
    const width = header.width ?? 0
    const height = header.pageHeight ?? header.height ?? 0
    if (width * height > this.maxPixels) {
      return {
        ok: false,
        error: {
          type: 'too_large',
          message: `${width}×${height} is more than ${this.maxPixels} pixels`,
          width,
          height,
        },
      }
    }

    let lease: PixelLease | null = null
    if (this.options.budget) {
      const { pixels, waitMs } = this.options.budget
      lease = await pixels.acquire(width * height, waitMs)
      if (!lease) {
        const message =
          width * height > pixels.capacity
            ? `${width}×${height} is more than the ${pixels.capacity} pixels the server decodes at once`
            : `${width}×${height} did not fit within ${waitMs} ms beside the pictures the server is decoding; try again`
        return { ok: false, error: { type: 'too_large', message, width, height } }
      }
    }
    const decoded = await this.#pixels(bytes, header.format)
    if (!decoded.ok) lease?.release()
    return decoded.ok ? { ...decoded, release: () => lease?.release() } : decoded
  }

  async #pixels(
    bytes: Uint8Array,
    format: string
  ): Promise<
    { ok: true; image: DecodedImage; format: string } | { ok: false; error: ImageDecodeError }
  > {
    try {
      const { data, info } = await sharp(bytes, {
        limitInputPixels: this.maxPixels,
        failOn: 'error',
        autoOrient: true,
      })
        .removeAlpha()
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true })
      if (info.channels !== 3) {
        return failure('unreadable', `Decoding gave ${info.channels} channels instead of RGB`)
      }
      const shared = new Uint8Array(new SharedArrayBuffer(data.length))
      shared.set(data)
      return {
        ok: true,
        image: { width: info.width, height: info.height, data: shared },
        format,
      }
    } catch (error) {
      return failure('unreadable', `The ${format} data cannot be decoded: ${reason(error)}`)
    }
  }
}

function failure(type: 'unreadable' | 'not_image', message: string) {
  return { ok: false as const, error: { type, message } }
}

function reason(error: unknown) {
  return error instanceof Error ? error.message : String(error)
}
