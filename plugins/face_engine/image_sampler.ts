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

export const rawPixels: Normalisation = { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }

/**
 * The image at full size and at successive halvings, built on demand.
 * Every crop a model sees is sampled through here: bilinear sampling from
 * the level just finer than the crop's scale, so that a 1080p frame
 * shrunk to a 256-pixel detector input is averaged instead of aliased,
 * and each request pays for each level at most once.
 */
export class ImagePyramid {
  #levels: RgbImage[]

  constructor(readonly base: RgbImage) {
    this.#levels = [base]
  }

  get width() {
    return this.base.width
  }

  get height() {
    return this.base.height
  }

  level(index: number): RgbImage {
    while (this.#levels.length <= index) {
      this.#levels.push(halve(this.#levels[this.#levels.length - 1]))
    }
    return this.#levels[index]
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
    const shrink = 2 ** index
    const { data } = source
    const sourceWidth = source.width
    const sourceHeight = source.height
    const multiply = [0, 1, 2].map((c) => normalisation.scale / normalisation.std[c])
    const add = [0, 1, 2].map((c) => -normalisation.mean[c] / normalisation.std[c])
    const [m0, m1, m2] = multiply
    const [a0, a1, a2] = add

    const stepX = toImage.a / shrink
    const stepY = toImage.c / shrink
    let out = offset
    for (let y = 0; y < height; y++) {
      let sx = (toImage.a * 0.5 + toImage.b * (y + 0.5) + toImage.tx) / shrink - 0.5
      let sy = (toImage.c * 0.5 + toImage.d * (y + 0.5) + toImage.ty) / shrink - 0.5
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

/** Each pixel of the result is the mean of a 2×2 block. */
function halve(image: RgbImage): RgbImage {
  const width = image.width >> 1
  const height = image.height >> 1
  const data = new Uint8Array(width * height * 3)
  const stride = image.width * 3
  const source = image.data
  let out = 0
  for (let y = 0; y < height; y++) {
    let p = 2 * y * stride
    for (let x = 0; x < width; x++, p += 6) {
      const q = p + stride
      for (let c = 0; c < 3; c++, out++) {
        data[out] = (source[p + c] + source[p + 3 + c] + source[q + c] + source[q + 3 + c] + 2) >> 2
      }
    }
  }
  return { width, height, data }
}
