import type { RgbImage } from './image_sampler.js'

/** A picture darker than this mean luminance (of 255) may hide a face a detector misses. */
const darkMean = 80

/**
 * How much a dark picture is smoothed before it is stretched. Sensor noise
 * dominates a dim picture, and stretching multiplies it with the signal:
 * on LFW faces at a tenth of the light with noise of σ 8, a Gaussian of
 * σ 3 let BlazeFace find 38 of 44 faces, σ 2 28, σ 4 30, none 12.
 */
const smoothing = 3

/**
 * A dark picture made legible for the detector: smoothed (see above) and
 * its luminance between the darkest and brightest percent stretched over
 * 0–255. Null when the picture is not dark, or so flat that stretching
 * would only amplify noise. The geometry is the original's, so boxes and
 * landmarks found on it hold for the original.
 */
export function brightened(image: RgbImage): RgbImage | null {
  const { width, height, data } = image
  const pixels = width * height
  if (pixels === 0) return null
  let sum = 0
  for (let i = 0; i < pixels; i++) sum += luminance(data, i)
  if (sum / pixels > darkMean) return null

  const smoothed = gaussianBlur(data, width, height, smoothing)
  const histogram = new Uint32Array(256)
  for (let i = 0; i < pixels; i++) histogram[Math.round(luminance(smoothed, i))]++
  const percentile = (share: number) => {
    let seen = 0
    for (let value = 0; value < 256; value++) {
      seen += histogram[value]
      if (seen >= share * pixels) return value
    }
    return 255
  }
  const low = percentile(0.01)
  const high = percentile(0.99)
  if (high - low < 4) return null
  const gain = 255 / (high - low)
  const out = Uint8Array.from(smoothed, (value) =>
    Math.max(0, Math.min(255, Math.round((value - low) * gain)))
  )
  return { width, height, data: out }
}

function luminance(data: ArrayLike<number>, pixel: number) {
  return data[pixel * 3] * 0.299 + data[pixel * 3 + 1] * 0.587 + data[pixel * 3 + 2] * 0.114
}

/** A separable Gaussian blur of every channel, edges repeated, in fractions of a level. */
function gaussianBlur(data: ArrayLike<number>, width: number, height: number, sigma: number) {
  const radius = Math.ceil(sigma * 3)
  const kernel = Float32Array.from({ length: 2 * radius + 1 }, (_, index) =>
    Math.exp(-((index - radius) ** 2) / (2 * sigma * sigma))
  )
  const total = kernel.reduce((sum, weight) => sum + weight, 0)
  const weights = kernel.map((weight) => weight / total)

  const pass = (source: ArrayLike<number>, horizontal: boolean) => {
    const target = new Float32Array(data.length)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let value = 0
          for (let k = -radius; k <= radius; k++) {
            const sx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x
            const sy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k))
            value += weights[k + radius] * source[(sy * width + sx) * 3 + c]
          }
          target[(y * width + x) * 3 + c] = value
        }
      }
    }
    return target
  }
  return pass(pass(data, true), false)
}
