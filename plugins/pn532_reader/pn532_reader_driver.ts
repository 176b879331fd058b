import {
  CardFeed,
  PluginError,
  SerialLine,
  type PluginContext,
  type PluginHealth,
  type ReaderDriver,
} from '#plugin-sdk'
import {
  commands,
  hostToPn532,
  informationFrame,
  nackFrame,
  pn532ToHost,
  Pn532FrameReader,
  wakeUp,
  type Pn532Frame,
} from './pn532_frames.js'

export interface Pn532ReaderConfig {
  label?: string
  /** The UART the PN532 is on (HSU mode): `/dev/ttyS1`, `/dev/ttyUSB0`… */
  port: string
  /** 115200 unless the module was set otherwise. */
  baudRate?: number
  /** How often the field is asked for a card, in milliseconds. */
  pollMs?: number
  /** How long the PN532 has to acknowledge, and to answer, a command. */
  timeoutMs?: number
}

interface Waiting {
  command: number
  frame: Buffer
  acknowledged: boolean
  resends: number
  resolve(data: Buffer): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

const defaults = { baudRate: 115_200, pollMs: 150, timeoutMs: 500 }

/** Resends of a frame the PN532 did not acknowledge, or asked for again with a NACK. */
const maxResends = 2

/**
 * How long a PN532 has to acknowledge a frame; it does so within a
 * millisecond or two when awake, so no ACK soon means asleep or gone.
 */
const ackTimeoutMs = 200

/** ISO/IEC 14443 type A at 106 kbit/s, the cards (MIFARE, NTAG, DESFire) door readers take. */
const typeA106 = 0x00

/**
 * An NXP PN532 on a UART (HSU). At start (and whenever its port comes
 * back or it stops answering) it is woken with the 0x55 preamble, put in
 * normal mode (SAMConfiguration) and told to try each activation once
 * (RFConfiguration), so that InListPassiveTarget, sent every `pollMs`,
 * answers at once when no card is there; a poll that fails has it woken
 * and configured again. A card is reported when it
 * enters the field, by its UID (NFCID1), not again while it stays.
 */
export class Pn532ReaderDriver implements ReaderDriver {
  #line: SerialLine | null = null
  #frames = new Pn532FrameReader()
  #waiting: Waiting | null = null
  #feed = new CardFeed()
  #running = false
  #generation = 0
  #timer: NodeJS.Timeout | null = null
  #present: string | null = null
  #firmware: string | null = null
  #failures = 0
  #lastError: string | null = null
  #ready = false
  readonly #settings

  constructor(private context: PluginContext<Pn532ReaderConfig>) {
    this.#settings = { ...defaults, ...context.config }
  }

  async start() {
    const line = new SerialLine({ path: this.#settings.port, baudRate: this.#settings.baudRate })
    line.on('data', (chunk) => this.#receive(chunk))
    line.on('lost', (error) => {
      this.#ready = false
      this.#lastError = error.message
      this.#waiting?.reject(error)
      this.context.logger.warn({ port: this.#settings.port }, error.message)
    })
    this.#line = line
    const generation = ++this.#generation
    try {
      await line.open()
      await this.#initialise()
    } catch (error) {
      this.#line = null
      await line.close()
      throw error
    }
    line.on('open', () => this.context.logger.info({ port: this.#settings.port }, 'port back'))
    this.#running = true
    this.#schedule(generation, 0)
  }

  async stop() {
    this.#running = false
    this.#generation++
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#waiting?.reject(new PluginError('The reader stopped', 'E_PLUGIN_STOPPED'))
    this.#feed.end()
    this.#feed = new CardFeed()
    const line = this.#line
    this.#line = null
    this.#ready = false
    await line?.close()
  }

  async health(): Promise<PluginHealth> {
    if (!this.#running || !this.#line) return { status: 'error', message: 'Not started' }
    const details = { port: this.#settings.port, firmware: this.#firmware, card: this.#present }
    if (!this.#line.isOpen) {
      return { status: 'warning', message: `${this.#line.problem}; opening it again`, details }
    }
    if (this.#failures > 1) {
      return {
        status: 'warning',
        message: `The PN532 does not answer: ${this.#lastError}`,
        details,
      }
    }
    return { status: 'ok', message: `PN532 ${this.#firmware} on ${this.#settings.port}`, details }
  }

  reads(signal?: AbortSignal) {
    return this.#feed.reads(signal)
  }

  async #initialise() {
    await this.#line!.write(wakeUp)
    await this.#command(commands.samConfiguration, [0x01, 0x14, 0x00])
    const version = await this.#command(commands.getFirmwareVersion, [])
    if (version.length < 4 || version[0] !== 0x32) {
      throw new PluginError(
        `The chip on ${this.#settings.port} is not a PN532 (IC ${version.toString('hex')})`,
        'E_PN532_UNEXPECTED'
      )
    }
    this.#firmware = `v${version[1]}.${version[2]}`
    await this.#command(commands.rfConfiguration, [0x05, 0xff, 0x01, 0x01])
    this.#ready = true
    this.#failures = 0
  }

  #schedule(generation: number, delayMs: number) {
    this.#timer = setTimeout(() => void this.#poll(generation), delayMs)
  }

  async #poll(generation: number) {
    if (generation !== this.#generation) return
    try {
      if (!this.#line?.isOpen)
        throw new PluginError(this.#line?.problem ?? 'closed', 'E_SERIAL_PORT')
      if (!this.#ready) await this.#initialise()
      const answer = await this.#command(commands.inListPassiveTarget, [0x01, typeA106])
      if (generation !== this.#generation) return
      this.#failures = 0
      this.#seen(cardIn(answer))
    } catch (error) {
      if (generation !== this.#generation) return
      this.#lastError = (error as Error).message
      this.#failures++
      this.#ready = false
    }
    if (generation === this.#generation) this.#schedule(generation, this.#settings.pollMs)
  }

  #seen(uid: string | null) {
    if (uid && uid !== this.#present) {
      this.context.logger.info({ uid }, 'card read')
      this.#feed.push({ uid, at: new Date() })
    }
    this.#present = uid
  }

  /** One command: its frame, the PN532's ACK, then its answer (the data after the command code). */
  #command(command: number, parameters: number[]) {
    const line = this.#line
    if (!line)
      return Promise.reject(new PluginError('The reader is not started', 'E_PLUGIN_STOPPED'))
    if (this.#waiting)
      return Promise.reject(new PluginError('A PN532 command is in progress', 'E_PN532_BUSY'))
    const frame = informationFrame(hostToPn532, Uint8Array.from([command, ...parameters]))
    return new Promise<Buffer>((resolve, reject) => {
      const waiting: Waiting = {
        command,
        frame,
        acknowledged: false,
        resends: 0,
        resolve: (data) => settle(() => resolve(data)),
        reject: (error) => settle(() => reject(error)),
        timer: setTimeout(() => this.#timedOut(waiting), this.#ackWaitMs),
      }
      const settle = (done: () => void) => {
        if (this.#waiting !== waiting) return
        clearTimeout(waiting.timer)
        this.#waiting = null
        done()
      }
      this.#waiting = waiting
      line.write(frame).catch(waiting.reject)
    })
  }

  #timedOut(waiting: Waiting) {
    if (this.#waiting !== waiting) return
    if (!waiting.acknowledged && waiting.resends < maxResends) {
      this.#resend(waiting)
      return
    }
    const [what, withinMs] = waiting.acknowledged
      ? ['answer', this.#settings.timeoutMs]
      : ['acknowledge', this.#ackWaitMs]
    waiting.reject(
      new PluginError(
        `The PN532 on ${this.#settings.port} did not ${what} command 0x${waiting.command.toString(16)} within ${withinMs} ms`,
        'E_PN532_TIMEOUT'
      )
    )
  }

  get #ackWaitMs() {
    return Math.min(ackTimeoutMs, this.#settings.timeoutMs)
  }

  #resend(waiting: Waiting) {
    waiting.resends++
    clearTimeout(waiting.timer)
    waiting.timer = setTimeout(() => this.#timedOut(waiting), this.#ackWaitMs)
    this.#line?.write(waiting.frame).catch(waiting.reject)
  }

  #receive(chunk: Buffer) {
    for (const frame of this.#frames.push(chunk)) this.#handle(frame)
  }

  #handle(frame: Pn532Frame) {
    const waiting = this.#waiting
    if (!waiting) return
    switch (frame.type) {
      case 'ack':
        waiting.acknowledged = true
        clearTimeout(waiting.timer)
        waiting.timer = setTimeout(() => this.#timedOut(waiting), this.#settings.timeoutMs)
        return
      case 'nack':
        if (waiting.resends < maxResends) this.#resend(waiting)
        return
      case 'damaged':
        this.context.logger.warn({ bytes: frame.bytes.toString('hex') }, 'damaged PN532 frame')
        this.#line?.write(nackFrame).catch(() => {})
        return
      case 'error':
        waiting.reject(new PluginError('The PN532 could not take the command', 'E_PN532_ERROR'))
        return
      case 'information':
        if (frame.tfi !== pn532ToHost || frame.data[0] !== waiting.command + 1) return
        waiting.resolve(frame.data.subarray(1))
    }
  }
}

/**
 * The UID of the first target in an InListPassiveTarget answer for type A:
 * NbTg, then Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1…
 */
export function cardIn(answer: Buffer) {
  if (answer.length < 1 || answer[0] === 0) return null
  const length = answer[5]
  if (length === undefined || answer.length < 6 + length) {
    throw new PluginError(
      `A short InListPassiveTarget answer: ${answer.toString('hex')}`,
      'E_PN532_FRAME'
    )
  }
  return answer
    .subarray(6, 6 + length)
    .toString('hex')
    .toUpperCase()
}
