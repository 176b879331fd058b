import { affineScale, type Affine } from './geometry.js'

/** Tightly packed 8-bit RGB, row after row. */
export interface RgbImage {
  width: number
  height: number
  data: Uint8Array
}

/**
 * How a model wants its input: value = (pixel · scale − mean) / std, per
 * RGB channel, with pixel in 0..255 (the manifest's `preprocessing`).
 */
export interface Normalisation {
  scale: number
  mean: readonly number[]
  std: readonly number[]
}

const rawPixels: Normalisation = { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }

/**
 * The image at full size and at successive halvings, built on demand.
 * Every crop a model sees is sampled through here: bilinear sampling from
 * the level just finer than the crop's scale, so that a 1080p frame
 * shrunk to a 256-pixel detector input is averaged instead of aliased,
 * and each request pays for each level at most once.
 */
export class ImagePyramid {
  #levels = new Map<number, RgbImage>()

  constructor(readonly base: RgbImage) {
    this.#levels.set(0, base)
  }

  get width() {
    return this.base.width
  }

  get height() {
    return this.base.height
  }

  /**
   * Level `index` is the image shrunk 2^index times. Two levels at a time
   * are made in one 4×4 pass, which reads the finer image once instead of
   * writing and re-reading the level between.
   */
  level(index: number): RgbImage {
    let at = index
    while (!this.#levels.has(at)) at--
    let image = this.#levels.get(at)!
    while (at < index) {
      const steps = index - at >= 2 ? 2 : 1
      image = shrink(image, steps)
      at += steps
      this.#levels.set(at, image)
    }
    return image
  }

  #levelFor(scale: number) {
    let index = 0
    let size = Math.min(this.base.width, this.base.height)
    while (scale >= 2 ** (index + 1) && size >= 4) {
      index++
      size >>= 1
    }
    return index
  }

  /**
   * Fills `into` (NHWC, `width`×`height`×3 floats from `offset`) with the
   * image seen through `toImage`, which maps output pixel coordinates to
   * image coordinates. Outside the image is black.
   */
  sample(
    toImage: Affine,
    width: number,
    height: number,
    normalisation: Normalisation,
    into: Float32Array = new Float32Array(width * height * 3),
    offset = 0
  ) {
    const index = this.#levelFor(affineScale(toImage))
    const source = this.level(index)
    const factor = 2 ** index
    const { data } = source
    const sourceWidth = source.width
    const sourceHeight = source.height
    const multiply = [0, 1, 2].map((c) => normalisation.scale / normalisation.std[c])
    const add = [0, 1, 2].map((c) => -normalisation.mean[c] / normalisation.std[c])
    const [m0, m1, m2] = multiply
    const [a0, a1, a2] = add

    const stepX = toImage.a / factor
    const stepY = toImage.c / factor
    let out = offset
    for (let y = 0; y < height; y++) {
      let sx = (toImage.a * 0.5 + toImage.b * (y + 0.5) + toImage.tx) / factor - 0.5
      let sy = (toImage.c * 0.5 + toImage.d * (y + 0.5) + toImage.ty) / factor - 0.5
      for (let x = 0; x < width; x++, sx += stepX, sy += stepY, out += 3) {
        const x0 = Math.floor(sx)
        const y0 = Math.floor(sy)
        const fx = sx - x0
        const fy = sy - y0
        let r = 0
        let g = 0
        let b = 0
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < sourceWidth && y0 + 1 < sourceHeight) {
          const p = (y0 * sourceWidth + x0) * 3
          const q = p + sourceWidth * 3
          const w00 = (1 - fx) * (1 - fy)
          const w01 = fx * (1 - fy)
          const w10 = (1 - fx) * fy
          const w11 = fx * fy
          r = data[p] * w00 + data[p + 3] * w01 + data[q] * w10 + data[q + 3] * w11
          g = data[p + 1] * w00 + data[p + 4] * w01 + data[q + 1] * w10 + data[q + 4] * w11
          b = data[p + 2] * w00 + data[p + 5] * w01 + data[q + 2] * w10 + data[q + 5] * w11
        } else if (x0 >= -1 && y0 >= -1 && x0 < sourceWidth && y0 < sourceHeight) {
          for (let dy = 0; dy < 2; dy++) {
            const row = y0 + dy
            if (row < 0 || row >= sourceHeight) continue
            const wy = dy === 0 ? 1 - fy : fy
            for (let dx = 0; dx < 2; dx++) {
              const column = x0 + dx
              if (column < 0 || column >= sourceWidth) continue
              const weight = wy * (dx === 0 ? 1 - fx : fx)
              const p = (row * sourceWidth + column) * 3
              r += data[p] * weight
              g += data[p + 1] * weight
              b += data[p + 2] * weight
            }
          }
        }
        into[out] = r * m0 + a0
        into[out + 1] = g * m1 + a1
        into[out + 2] = b * m2 + a2
      }
    }
    return into
  }

  /** The image seen through `toImage` as 8-bit RGB (aligned faces, quality checks). */
  sampleRgb(toImage: Affine, width: number, height: number): RgbImage {
    const values = this.sample(toImage, width, height, rawPixels)
    const data = new Uint8Array(values.length)
    for (let i = 0; i < values.length; i++) data[i] = Math.round(values[i])
    return { width, height, data }
  }
}

/**
 * Each pixel of the result is the mean of a 2×2 (`steps` 1) or 4×4
 * (`steps` 2) block. Written out by hand: this runs over every pixel of a
 * full photo, and the unrolled loops take half the time of general ones.
 */
function shrink(image: RgbImage, steps: 1 | 2): RgbImage {
  const width = image.width >> steps
  const height = image.height >> steps
  const data = new Uint8Array(width * height * 3)
  const stride = image.width * 3
  const s = image.data
  let out = 0
  for (let y = 0; y < height; y++) {
    let p = (y << steps) * stride
    const end = out + width * 3
    if (steps === 1) {
      for (; out < end; out += 3, p += 6) {
        const q = p + stride
        data[out] = (s[p] + s[p + 3] + s[q] + s[q + 3] + 2) >> 2
        data[out + 1] = (s[p + 1] + s[p + 4] + s[q + 1] + s[q + 4] + 2) >> 2
        data[out + 2] = (s[p + 2] + s[p + 5] + s[q + 2] + s[q + 5] + 2) >> 2
      }
      continue
    }
    for (; out < end; out += 3, p += 12) {
      let r = 8
      let g = 8
      let b = 8
      for (let q = p; q < p + 4 * stride; q += stride) {
        r += s[q] + s[q + 3] + s[q + 6] + s[q + 9]
        g += s[q + 1] + s[q + 4] + s[q + 7] + s[q + 10]
        b += s[q + 2] + s[q + 5] + s[q + 8] + s[q + 11]
      }
      data[out] = r >> 4
      data[out + 1] = g >> 4
      data[out + 2] = b >> 4
    }
  }
  return { width, height, data }
}
