import type { SerialPort } from 'serialport'
import { createPtyPair, type PtyPair, type ReaderSimulator } from '#plugin-sdk'
import { formatCardLine, type ByteOrder, type LineFormat } from './card_line.js'

/**
 * A reader that prints card numbers, on the far end of a socat pty pair:
 * `presentCard` writes the line a reader of the chosen format would.
 */
export default class LineReaderSimulator implements ReaderSimulator {
  readonly invalidConfigs = [
    {},
    { port: '' },
    { port: '/dev/ttyUSB0', format: 'octal' },
    { port: '/dev/ttyUSB0', byteOrder: 'middle' },
    { port: '/dev/ttyUSB0', baudRate: 300 },
    { port: '/dev/ttyUSB0', repeatMs: -1 },
  ]

  #pty: PtyPair | null = null
  #port: SerialPort | null = null

  constructor(
    private format: LineFormat = 'hex',
    private byteOrder: ByteOrder = 'msb'
  ) {}

  get pty() {
    if (!this.#pty) throw new Error('The line reader simulator is not started')
    return this.#pty
  }

  async start() {
    this.#pty = await createPtyPair()
    await this.open()
    return {
      label: 'Simulated reader',
      port: this.#pty.devicePath,
      format: this.format,
      byteOrder: this.byteOrder,
    }
  }

  /** Opens the reader's end of the cable (again, after `pty.plug()`). */
  async open() {
    const { SerialPort: Port } = await import('serialport')
    const port = new Port({ path: this.pty.peerPath, baudRate: 9600, autoOpen: false })
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(error) : resolve()))
    )
    port.on('error', () => {})
    this.#port = port
  }

  async stop() {
    const port = this.#port
    this.#port = null
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
    await this.#pty?.close()
    this.#pty = null
  }

  /** Prints raw text, as a reader (or line noise) would. */
  async print(text: string) {
    const port = this.#port
    if (!port) throw new Error('The line reader simulator is not open')
    await new Promise<void>((resolve, reject) =>
      port.write(text, (error) => (error ? reject(error) : port.drain(() => resolve())))
    )
  }

  async presentCard(uid: string) {
    await this.print(`${formatCardLine(uid, this.format, this.byteOrder)}\r\n`)
  }
}
