import { EventEmitter } from 'node:events'
import { stat } from 'node:fs/promises'
import type { SerialPort } from 'serialport'
import { PluginError } from '#plugin-host/errors'

export interface SerialLineSettings {
  /** `/dev/ttyUSB0`, `/dev/ttyS1`, `/dev/serial/by-id/…` */
  path: string
  baudRate: number
  parity?: 'none' | 'even' | 'odd'
  dataBits?: 7 | 8
  stopBits?: 1 | 2
  /** How long to wait before opening a port again after it went away or would not open. */
  reopenMs?: number
  /** How often the device file is checked while the port is open. */
  watchMs?: number
}

export interface SerialLineEvents {
  data: [Buffer]
  open: []
  lost: [Error]
}

/**
 * A serial port a driver keeps open: `open()` opens it (or fails with the
 * reason), and when it goes away later (a USB reader unplugged) it is
 * opened again every `reopenMs` until it is back or `close()` is called.
 * A reader that only listens would not notice a port that vanished while
 * nothing was read, so the device file is also checked every `watchMs`:
 * gone, or another device under the same name, is a lost port too.
 * Readers that speak on their own use it; Modbus buses have their own.
 */
export class SerialLine extends EventEmitter<SerialLineEvents> {
  #port: SerialPort | null = null
  #closed = true
  #timer: NodeJS.Timeout | null = null
  #watch: NodeJS.Timeout | null = null
  #lastError: Error | null = null

  constructor(readonly settings: SerialLineSettings) {
    super()
  }

  get isOpen() {
    return Boolean(this.#port?.isOpen)
  }

  /** Why the port is not open, while it is not. */
  get problem() {
    return this.isOpen ? null : (this.#lastError?.message ?? 'not open')
  }

  async open() {
    this.#closed = false
    await this.#open()
  }

  async write(bytes: Uint8Array) {
    const port = this.#port
    if (!port?.isOpen) throw new PluginError(`${this.settings.path} is not open`, 'E_SERIAL_PORT')
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.from(bytes), (error) => (error ? reject(error) : resolve()))
    )
  }

  async close() {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#watch) clearInterval(this.#watch)
    this.#timer = null
    this.#watch = null
    const port = this.#port
    this.#port = null
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
  }

  async #open() {
    const { SerialPort: Port } = await import('serialport')
    const { path, baudRate, parity, dataBits, stopBits } = this.settings
    const port = new Port({
      path,
      baudRate,
      parity: parity ?? 'none',
      dataBits: dataBits ?? 8,
      stopBits: stopBits ?? 1,
      autoOpen: false,
      lock: true,
    })
    try {
      await new Promise<void>((resolve, reject) =>
        port.open((error) => (error ? reject(error) : resolve()))
      )
    } catch (error) {
      this.#lastError = new PluginError(
        `Cannot open ${path}: ${(error as Error).message}`,
        'E_SERIAL_PORT'
      )
      throw this.#lastError
    }
    if (this.#closed) {
      port.close(() => {})
      return
    }
    this.#port = port
    this.#lastError = null
    port.on('data', (chunk: Buffer) => this.emit('data', chunk))
    port.on('error', (error: Error) => this.#lost(port, error))
    port.on('close', (error: Error | null) => this.#lost(port, error))
    void this.#watchDevice(port)
    this.emit('open')
  }

  async #watchDevice(port: SerialPort) {
    const device = await stat(this.settings.path).catch(() => null)
    if (this.#watch) clearInterval(this.#watch)
    this.#watch = setInterval(async () => {
      const now = await stat(this.settings.path).catch(() => null)
      if (now && device && now.rdev === device.rdev) return
      this.#lost(port, new Error(now ? 'another device has its name' : 'the device is gone'))
    }, this.settings.watchMs ?? 1000)
    this.#watch.unref()
  }

  #lost(port: SerialPort, error: Error | null) {
    if (this.#port !== port) return
    this.#port = null
    if (this.#watch) clearInterval(this.#watch)
    this.#watch = null
    if (port.isOpen) port.close(() => {})
    this.#lastError = new PluginError(
      `${this.settings.path} went away${error?.message ? `: ${error.message}` : ''}`,
      'E_SERIAL_PORT'
    )
    this.emit('lost', this.#lastError)
    this.#reopenLater()
  }

  #reopenLater() {
    if (this.#closed || this.#timer) return
    this.#timer = setTimeout(async () => {
      this.#timer = null
      if (this.#closed) return
      await this.#open().catch(() => this.#reopenLater())
    }, this.settings.reopenMs ?? 1000)
  }
}
