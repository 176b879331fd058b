import type { SerialPort } from 'serialport'
import {
  ackFrame,
  commands,
  hostToPn532,
  informationFrame,
  pn532ToHost,
  Pn532FrameReader,
} from './pn532_frames.js'

/**
 * A PN532 as its UART shows it, on the far end of a pty pair: asleep
 * until the 0x55 wake-up, then it acknowledges each command frame and
 * answers SAMConfiguration, GetFirmwareVersion (PN532 v1.6),
 * RFConfiguration and InListPassiveTarget (the card in the field, if
 * any), and sends its last answer again when the host NACKs it. Tests
 * make it fall silent, damage an answer or go back to sleep.
 */
export class Pn532Peer {
  /** Cards in the field: a UID and until when it stays there (performance.now()). */
  #card: { uid: Buffer; until: number } | null = null
  #frames = new Pn532FrameReader()
  #lastAnswer: Buffer | null = null
  #port: SerialPort | null = null
  awake = false
  silent = false
  #damageNext = 0
  readonly commandsSeen: number[] = []

  constructor(private path: string) {}

  async open() {
    const { SerialPort: Port } = await import('serialport')
    const port = new Port({ path: this.path, baudRate: 115_200, autoOpen: false })
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(error) : resolve()))
    )
    port.on('data', (chunk: Buffer) => this.#receive(chunk))
    port.on('error', () => {})
    this.#port = port
  }

  async close() {
    const port = this.#port
    this.#port = null
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
  }

  /** A card held to the reader for `holdMs`. */
  present(uid: string, holdMs = 400) {
    this.#card = { uid: Buffer.from(uid, 'hex'), until: performance.now() + holdMs }
  }

  /** The next `count` answers go out with a wrong data checksum. */
  damageNext(count = 1) {
    this.#damageNext = count
  }

  /** Power-down, as after a brown-out: the host must wake it again. */
  sleep() {
    this.awake = false
  }

  #receive(chunk: Buffer) {
    if (chunk.includes(0x55)) this.awake = true
    for (const frame of this.#frames.push(chunk)) {
      if (!this.awake || this.silent) continue
      if (frame.type === 'nack' && this.#lastAnswer) this.#send(this.#lastAnswer)
      if (frame.type !== 'information' || frame.tfi !== hostToPn532) continue
      this.commandsSeen.push(frame.data[0])
      this.#send(ackFrame)
      const answer = this.#answer(frame.data[0])
      this.#lastAnswer = answer
      if (this.#damageNext > 0) {
        this.#damageNext--
        const damaged = Buffer.from(answer)
        damaged[damaged.length - 2] ^= 0xff
        this.#send(damaged)
      } else this.#send(answer)
    }
  }

  #answer(command: number) {
    const reply = (...data: number[]) =>
      informationFrame(pn532ToHost, Uint8Array.from([command + 1, ...data]))
    switch (command) {
      case commands.samConfiguration:
      case commands.rfConfiguration:
        return reply()
      case commands.getFirmwareVersion:
        return reply(0x32, 0x01, 0x06, 0x07)
      case commands.inListPassiveTarget: {
        const card = this.#card && this.#card.until > performance.now() ? this.#card : null
        if (!card) return reply(0x00)
        return reply(0x01, 0x01, 0x00, 0x44, 0x00, card.uid.length, ...card.uid)
      }
      default:
        return Buffer.from([0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00])
    }
  }

  #send(bytes: Buffer) {
    this.#port?.write(bytes)
  }
}
