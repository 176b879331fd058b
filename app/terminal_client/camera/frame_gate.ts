import type { DecodedImage } from '#plugin-sdk'

export type FrameGateOptions = {
  /** Mean absolute difference of the grey thumbnail to the previous frame's (0–255) that counts as motion. */
  motionThreshold?: number
  /** The engine keeps running this long after the last motion. */
  motionHoldMs?: number
  /** ... and this long after the last face the engine found. */
  faceHoldMs?: number
  /** Mean luminance (0–255) below which the scene is dark and the fill light is wanted. */
  darkBelow?: number
  /** The grey thumbnail's longer side in pixels. */
  thumbnailSide?: number
}

export type FrameMeasure = {
  /** Mean absolute difference to the previous frame, 0–255; null for the first frame. */
  motion: number | null
  /** Mean luminance, 0–255. */
  brightness: number
  dark: boolean
  /** Whether the engine should look at this frame: something moves or a face was seen recently. */
  active: boolean
}

/**
 * What decides whether a frame is worth the engine: cheap measures on a
 * small grey thumbnail of it (motion against the previous frame, mean
 * brightness), so a still, empty scene costs a fraction of a millisecond
 * a frame and the engine only runs while something moves in front of the
 * camera or a face was seen moments ago (a person standing still at the
 * door is still recognised).
 */
export class FrameGate {
  readonly motionThreshold: number
  readonly motionHoldMs: number
  readonly faceHoldMs: number
  readonly darkBelow: number
  readonly thumbnailSide: number
  #previous: Float32Array | null = null
  #previousSize = ''
  #lastMotionAt = -Infinity
  #lastFaceAt = -Infinity

  constructor(options: FrameGateOptions = {}) {
    this.motionThreshold = options.motionThreshold ?? 4
    this.motionHoldMs = options.motionHoldMs ?? 2000
    this.faceHoldMs = options.faceHoldMs ?? 3000
    this.darkBelow = options.darkBelow ?? 50
    this.thumbnailSide = options.thumbnailSide ?? 64
  }

  measure(image: DecodedImage, now = Date.now()): FrameMeasure {
    const { grey, width, height } = greyThumbnail(image, this.thumbnailSide)
    let sum = 0
    for (const value of grey) sum += value
    const brightness = sum / grey.length

    const size = `${width}x${height}`
    let motion: number | null = null
    if (this.#previous && this.#previousSize === size) {
      let difference = 0
      const previous = this.#previous
      for (const [index, value] of grey.entries()) difference += Math.abs(value - previous[index])
      motion = difference / grey.length
    }
    // A first frame, or a camera that changed size, is a new scene: worth a look.
    if (motion === null || motion >= this.motionThreshold) this.#lastMotionAt = now
    this.#previous = grey
    this.#previousSize = size
    return {
      motion,
      brightness,
      dark: brightness < this.darkBelow,
      active:
        now - this.#lastMotionAt <= this.motionHoldMs || now - this.#lastFaceAt <= this.faceHoldMs,
    }
  }

  /** The engine found a face: keep looking for `faceHoldMs` even if nothing moves. */
  faceSeen(now = Date.now()) {
    this.#lastFaceAt = now
  }
}

/**
 * A grey thumbnail of the frame: each cell the mean luminance (BT.601) of
 * a sparse grid of its pixels, at most 4×4 of them, which averages sensor
 * noise away without reading the whole frame.
 */
export function greyThumbnail(image: DecodedImage, side: number) {
  const scale = Math.min(1, side / Math.max(image.width, image.height))
  const width = Math.max(1, Math.round(image.width * scale))
  const height = Math.max(1, Math.round(image.height * scale))
  const grey = new Float32Array(width * height)
  const cellWidth = image.width / width
  const cellHeight = image.height / height
  const samplesX = Math.min(4, Math.max(1, Math.floor(cellWidth)))
  const samplesY = Math.min(4, Math.max(1, Math.floor(cellHeight)))
  const data = image.data
  for (let cy = 0; cy < height; cy++) {
    for (let cx = 0; cx < width; cx++) {
      let sum = 0
      for (let sy = 0; sy < samplesY; sy++) {
        const y = Math.floor(cy * cellHeight + ((sy + 0.5) * cellHeight) / samplesY)
        for (let sx = 0; sx < samplesX; sx++) {
          const x = Math.floor(cx * cellWidth + ((sx + 0.5) * cellWidth) / samplesX)
          const offset = (y * image.width + x) * 3
          sum += (77 * data[offset] + 150 * data[offset + 1] + 29 * data[offset + 2]) / 256
        }
      }
      grey[cy * width + cx] = sum / (samplesX * samplesY)
    }
  }
  return { grey, width, height }
}
