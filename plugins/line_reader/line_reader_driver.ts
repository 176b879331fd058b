import {
  CardFeed,
  SerialLine,
  type PluginContext,
  type PluginHealth,
  type ReaderDriver,
} from '#plugin-sdk'
import { parseCardLine, type ByteOrder, type LineFormat } from './card_line.js'

export interface LineReaderConfig {
  label?: string
  port: string
  baudRate?: number
  parity?: 'none' | 'even' | 'odd'
  dataBits?: 7 | 8
  stopBits?: 1 | 2
  format?: LineFormat
  byteOrder?: ByteOrder
  /** The same card again within this time is the reader repeating itself, not a new read. */
  repeatMs?: number
}

export const lineReaderDefaults = {
  baudRate: 9600,
  format: 'hex',
  byteOrder: 'msb',
  repeatMs: 1500,
} as const

/** A line longer than this is noise, not a card number. */
const maxLineLength = 128

/**
 * A card reader that prints each card as a line of text on a serial port:
 * RS-485 and USB (CDC or FTDI) readers in "UID output" mode, Wiegand
 * converters. Lines end with CR, LF or both; a line that is not a card
 * number in the configured format is logged and skipped. When the port
 * goes away the driver opens it again every second, and the readers of
 * `reads()` carry on when it is back.
 */
export class LineReaderDriver implements ReaderDriver {
  #line: SerialLine | null = null
  #feed = new CardFeed()
  #pending = ''
  #last: { uid: string; at: number } | null = null
  #skipped = 0
  #running = false
  readonly #settings

  constructor(private context: PluginContext<LineReaderConfig>) {
    this.#settings = { ...lineReaderDefaults, ...context.config }
  }

  async start() {
    const { port, baudRate, parity, dataBits, stopBits } = this.#settings
    const line = new SerialLine({ path: port, baudRate, parity, dataBits, stopBits })
    line.on('data', (chunk) => this.#receive(chunk))
    line.on('lost', (error) => this.context.logger.warn({ port }, error.message))
    await line.open()
    line.on('open', () => {
      this.#pending = ''
      this.context.logger.info({ port }, 'port back')
    })
    this.#line = line
    this.#pending = ''
    this.#running = true
  }

  async stop() {
    this.#running = false
    this.#feed.end()
    this.#feed = new CardFeed()
    const line = this.#line
    this.#line = null
    await line?.close()
  }

  async health(): Promise<PluginHealth> {
    if (!this.#running || !this.#line) return { status: 'error', message: 'Not started' }
    const { port, format } = this.#settings
    const details = { port, format, skippedLines: this.#skipped }
    if (!this.#line.isOpen) {
      return { status: 'warning', message: `${this.#line.problem}; opening it again`, details }
    }
    return { status: 'ok', message: `Reading ${format} card numbers on ${port}`, details }
  }

  reads(signal?: AbortSignal) {
    return this.#feed.reads(signal)
  }

  #receive(chunk: Buffer) {
    this.#pending += chunk.toString('latin1')
    const lines = this.#pending.split(/\r\n|\r|\n/)
    this.#pending = lines.pop() ?? ''
    if (this.#pending.length > maxLineLength) this.#pending = ''
    for (const line of lines) this.#read(line)
  }

  #read(text: string) {
    if (text.trim().length === 0) return
    const parsed = parseCardLine(text, this.#settings.format, this.#settings.byteOrder)
    if (!parsed.ok) {
      this.#skipped++
      this.context.logger.warn(
        { line: JSON.stringify(text), reason: parsed.reason },
        'line skipped'
      )
      return
    }
    const now = Date.now()
    if (this.#last?.uid === parsed.uid && now - this.#last.at < this.#settings.repeatMs) {
      this.#last.at = now
      return
    }
    this.#last = { uid: parsed.uid, at: now }
    this.context.logger.info({ uid: parsed.uid }, 'card read')
    this.#feed.push({ uid: parsed.uid, at: new Date(now) })
  }
}
