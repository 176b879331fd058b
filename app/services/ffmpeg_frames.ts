import type { DecodedImage } from '#plugin-sdk'

/**
 * The output half of every ffmpeg command that hands decoded frames to
 * this app: each frame a binary PPM (RGB, with its own width and height)
 * on stdout, so a reader needs no probe of the size first and a camera
 * that changes resolution mid-stream is still read right.
 */
export function ppmOutputArgs(filters: string[]) {
  return [
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-vf',
    filters.join(','),
    '-c:v',
    'ppm',
    '-f',
    'image2pipe',
    'pipe:1',
  ]
}

/** The scale filter that fits a frame within `maxSide` pixels on its longer side, never enlarging it. */
export function fitWithin(maxSide: number) {
  return `scale=w='min(iw,${maxSide})':h='min(ih,${maxSide})':force_original_aspect_ratio=decrease`
}

/**
 * Cuts ffmpeg's PPM stream into frames, whatever chunks the pipe hands
 * over. Each frame gets pixels of its own, since a consumer may still hold
 * the previous one.
 */
export class PpmFrameParser {
  #pending: Buffer = Buffer.alloc(0)
  #frame?: { width: number; height: number; data: Buffer; filled: number }

  push(chunk: Buffer): DecodedImage[] {
    const frames: DecodedImage[] = []
    let rest = chunk
    while (rest.length > 0) {
      if (!this.#frame) {
        this.#pending = this.#pending.length ? Buffer.concat([this.#pending, rest]) : rest
        rest = Buffer.alloc(0)
        const header = parseHeader(this.#pending)
        if (!header) {
          if (this.#pending.length > 64)
            throw new Error('ffmpeg wrote something that is no PPM frame')
          break
        }
        const { width, height, length } = header
        this.#frame = { width, height, data: Buffer.allocUnsafe(width * height * 3), filled: 0 }
        rest = this.#pending.subarray(length)
        this.#pending = Buffer.alloc(0)
      }
      const frame = this.#frame
      const taken = Math.min(frame.data.length - frame.filled, rest.length)
      rest.copy(frame.data, frame.filled, 0, taken)
      frame.filled += taken
      rest = rest.subarray(taken)
      if (frame.filled === frame.data.length) {
        frames.push({
          width: frame.width,
          height: frame.height,
          data: new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length),
        })
        this.#frame = undefined
      }
    }
    return frames
  }
}

/** `P6 <width> <height> 255` and one whitespace byte, as ffmpeg writes it (no comments). */
function parseHeader(bytes: Buffer) {
  const fields: string[] = []
  let start = -1
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]
    const space = byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
    if (!space && start < 0) start = index
    if (space && start >= 0) {
      fields.push(bytes.toString('latin1', start, index))
      start = -1
      if (fields.length === 4) {
        if (fields[0] !== 'P6' || fields[3] !== '255') {
          throw new Error('ffmpeg wrote something that is no 8-bit RGB PPM frame')
        }
        const width = Number(fields[1])
        const height = Number(fields[2])
        if (!(width > 0 && height > 0)) throw new Error('ffmpeg wrote a PPM frame without a size')
        return { width, height, length: index + 1 }
      }
    }
  }
  return undefined
}
