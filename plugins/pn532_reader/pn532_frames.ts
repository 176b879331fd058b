/**
 * PN532 host-interface frames as they travel over its UART (HSU):
 *
 *   information  00 00 FF LEN LCS TFI DATA… DCS 00   LEN = 1 + DATA, LEN + LCS ≡ 0,
 *                                                    TFI + DATA + DCS ≡ 0 (mod 256)
 *   ACK          00 00 FF 00 FF 00
 *   NACK         00 00 FF FF 00 00
 *   error        00 00 FF 01 FF 7F 81 00             (a frame the PN532 could not take)
 *
 * TFI is D4 from the host and D5 from the PN532, whose answer to command
 * C is C + 1. Extended frames (LEN over 254) are not used by a reader.
 */
export const hostToPn532 = 0xd4
export const pn532ToHost = 0xd5

export const ackFrame = Buffer.from([0x00, 0x00, 0xff, 0x00, 0xff, 0x00])
export const nackFrame = Buffer.from([0x00, 0x00, 0xff, 0xff, 0x00, 0x00])

/**
 * What a PN532 needs on its UART to wake from power-down: 0x55 0x55 then
 * zeros for long enough (libnfc sends this before its first command).
 */
export const wakeUp = Buffer.from([0x55, 0x55, ...new Array(14).fill(0x00)])

export const commands = {
  getFirmwareVersion: 0x02,
  samConfiguration: 0x14,
  rfConfiguration: 0x32,
  inListPassiveTarget: 0x4a,
} as const

export function informationFrame(tfi: number, data: Uint8Array) {
  const length = data.length + 1
  if (length > 254) throw new RangeError('A normal PN532 frame holds at most 254 bytes')
  const sum = data.reduce((total, byte) => total + byte, tfi)
  return Buffer.from([
    0x00,
    0x00,
    0xff,
    length,
    (0x100 - length) & 0xff,
    tfi,
    ...data,
    (0x100 - (sum & 0xff)) & 0xff,
    0x00,
  ])
}

export type Pn532Frame =
  | { type: 'ack' }
  | { type: 'nack' }
  | { type: 'error' }
  | { type: 'information'; tfi: number; data: Buffer }
  /** A frame whose length or data checksum is wrong: the sender is asked again with a NACK. */
  | { type: 'damaged'; bytes: Buffer }

/**
 * Cuts frames out of bytes as they arrive. Bytes before a start code
 * (00 FF) are skipped; 0x55 wake-up bytes and zeros among them too.
 */
export class Pn532FrameReader {
  #buffer = Buffer.alloc(0)

  push(chunk: Uint8Array): Pn532Frame[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    const frames: Pn532Frame[] = []
    for (;;) {
      const start = this.#findStart()
      if (start < 0) {
        this.#buffer = this.#buffer.subarray(Math.max(0, this.#buffer.length - 1))
        return frames
      }
      this.#buffer = this.#buffer.subarray(start)
      const buffer = this.#buffer
      if (buffer.length < 4) return frames
      const [length, check] = [buffer[2], buffer[3]]
      if (length === 0x00 && check === 0xff) {
        frames.push({ type: 'ack' })
        this.#buffer = buffer.subarray(4)
        continue
      }
      if (length === 0xff && check === 0x00) {
        frames.push({ type: 'nack' })
        this.#buffer = buffer.subarray(4)
        continue
      }
      if (((length + check) & 0xff) !== 0) {
        frames.push({ type: 'damaged', bytes: Buffer.from(buffer.subarray(0, 4)) })
        this.#buffer = buffer.subarray(2)
        continue
      }
      if (buffer.length < 4 + length + 1) return frames
      const body = buffer.subarray(4, 4 + length)
      const dcs = buffer[4 + length]
      this.#buffer = buffer.subarray(4 + length + 1)
      const sum = body.reduce((total, byte) => total + byte, dcs)
      if ((sum & 0xff) !== 0) {
        frames.push({ type: 'damaged', bytes: Buffer.from(buffer.subarray(0, 5 + length)) })
      } else if (length === 1 && body[0] === 0x7f) {
        frames.push({ type: 'error' })
      } else {
        frames.push({ type: 'information', tfi: body[0], data: Buffer.from(body.subarray(1)) })
      }
    }
  }

  #findStart() {
    for (let index = 0; index + 1 < this.#buffer.length; index++) {
      if (this.#buffer[index] === 0x00 && this.#buffer[index + 1] === 0xff) return index
    }
    return -1
  }
}
