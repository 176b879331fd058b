import type { RgbImage } from './image_sampler.js'

/** A picture darker than this mean luminance (of 255) may hide a face a detector misses. */
const darkMean = 80

/**
 * A dark picture made legible for the detector: each pixel averaged with
 * its eight neighbours (sensor noise, which dominates a dim picture, drops
 * to a third) and the luminance range between the darkest and brightest
 * half percent stretched over 0–255. Null when the picture is not dark, or
 * so flat that stretching would only amplify noise. The same geometry, so
 * boxes and landmarks found on it hold for the original.
 */
export function brightened(image: RgbImage): RgbImage | null {
  const { width, height, data } = image
  const pixels = width * height
  if (pixels === 0) return null
  const histogram = new Uint32Array(256)
  let sum = 0
  for (let i = 0; i < pixels; i++) {
    const luminance = (data[i * 3] * 77 + data[i * 3 + 1] * 150 + data[i * 3 + 2] * 29) >> 8
    histogram[luminance]++
    sum += luminance
  }
  if (sum / pixels > darkMean) return null

  const smoothed = boxBlur(image)
  const percentile = (share: number) => {
    let seen = 0
    for (let value = 0; value < 256; value++) {
      seen += histogram[value]
      if (seen >= share * pixels) return value
    }
    return 255
  }
  const low = percentile(0.005)
  const high = percentile(0.995)
  if (high - low < 6) return null
  const gain = 255 / (high - low)
  const out = Uint8Array.from(smoothed, (value) =>
    Math.max(0, Math.min(255, Math.round((value - low) * gain)))
  )
  return { width, height, data: out }
}

/** A 3×3 mean of every channel, edges repeated; in fractions of a level, not rounded. */
function boxBlur({ width, height, data }: RgbImage) {
  const rows = new Float32Array(data.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const left = Math.max(0, x - 1)
      const right = Math.min(width - 1, x + 1)
      for (let c = 0; c < 3; c++) {
        const at = (y * width + x) * 3 + c
        rows[at] =
          (data[(y * width + left) * 3 + c] + data[at] + data[(y * width + right) * 3 + c]) / 3
      }
    }
  }
  const out = new Float32Array(data.length)
  for (let y = 0; y < height; y++) {
    const up = Math.max(0, y - 1)
    const down = Math.min(height - 1, y + 1)
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (y * width + x) * 3 + c
        out[at] = (rows[(up * width + x) * 3 + c] + rows[at] + rows[(down * width + x) * 3 + c]) / 3
      }
    }
  }
  return out
}
