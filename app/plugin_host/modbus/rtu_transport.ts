import type { SerialPort } from 'serialport'
import { modbusCrc } from '#plugin-host/modbus/crc'
import {
  ModbusCrcError,
  ModbusFrameError,
  ModbusPortError,
  ModbusTimeoutError,
} from '#plugin-host/modbus/errors'
import { rtuAnswerLength } from '#plugin-host/modbus/pdu'
import type { ModbusTransport } from '#plugin-host/modbus/transport'

export interface SerialSettings {
  /** The device: `/dev/ttyUSB0`, `/dev/serial/by-id/…`, a pty. */
  serial: string
  baudRate: number
  parity: 'none' | 'even' | 'odd'
  dataBits: 7 | 8
  stopBits: 1 | 2
}

interface Pending {
  unitId: number
  functionCode: number
  resolve(answer: Buffer): void
  reject(error: Error): void
}

/**
 * Modbus RTU over a serial port (an RS-485 adapter). The master speaks
 * only after the line has been quiet for 3.5 characters, as the standard
 * asks, and whatever arrives while no request waits (a late answer, line
 * noise while drivers turn around) is dropped rather than taken for the
 * next answer. An answer is complete when its length, told by its
 * function code, has arrived; a bad CRC fails the request at once.
 */
export class RtuTransport implements ModbusTransport {
  readonly name: string
  #port: SerialPort | null = null
  #opening: Promise<SerialPort> | null = null
  #received = Buffer.alloc(0)
  #lastByteAt = 0
  #pending: Pending | null = null
  #closed = false
  readonly #charMs: number
  readonly #silenceMs: number

  constructor(private settings: SerialSettings) {
    this.name = settings.serial
    const bits = 1 + settings.dataBits + (settings.parity === 'none' ? 0 : 1) + settings.stopBits
    this.#charMs = (bits * 1000) / settings.baudRate
    /** Above 19200 baud the standard fixes the gap at 1.75 ms; a pty or USB adapter adds its own latency. */
    this.#silenceMs = Math.max(2, settings.baudRate > 19_200 ? 1.75 : 3.5 * this.#charMs)
  }

  async exchange(unitId: number, pdu: Buffer, timeoutMs: number) {
    const port = await this.#open()
    await this.#quiet()
    const frame = Buffer.alloc(pdu.length + 3)
    frame[0] = unitId
    pdu.copy(frame, 1)
    frame.writeUInt16LE(modbusCrc(frame.subarray(0, frame.length - 2)), frame.length - 2)
    this.#received = Buffer.alloc(0)

    /** The request's own time on the wire is not the unit's to answer in. */
    const waitMs = timeoutMs + Math.ceil(frame.length * this.#charMs)
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new ModbusTimeoutError(this.name, unitId, timeoutMs, 1)),
        waitMs
      )
      const settle = (outcome: Buffer | Error) => {
        if (this.#pending !== pending) return
        clearTimeout(timer)
        this.#pending = null
        if (outcome instanceof Error) reject(outcome)
        else resolve(outcome)
      }
      const pending: Pending = {
        unitId,
        functionCode: pdu[0],
        resolve: settle,
        reject: settle,
      }
      this.#pending = pending
      port.write(frame, (error) => {
        if (error) settle(new ModbusPortError(`Cannot write to ${this.name}: ${error.message}`))
      })
    })
  }

  async close() {
    this.#closed = true
    const port = this.#port ?? (await this.#opening?.catch(() => null))
    this.#port = null
    this.#opening = null
    this.#pending?.reject(new ModbusPortError(`${this.name} was closed`))
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
  }

  #open() {
    if (this.#port?.isOpen) return Promise.resolve(this.#port)
    if (this.#closed) return Promise.reject(new ModbusPortError(`${this.name} was closed`))
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = null
    })
    return this.#opening
  }

  /** serialport loads its native binding on import, so only processes that open a port load it. */
  async #connect() {
    const { SerialPort: Port } = await import('serialport')
    return new Promise<SerialPort>((resolve, reject) => {
      const { serial, baudRate, parity, dataBits, stopBits } = this.settings
      const port = new Port({
        path: serial,
        baudRate,
        parity,
        dataBits,
        stopBits,
        autoOpen: false,
        lock: true,
      })
      port.open((error) => {
        if (error) {
          reject(new ModbusPortError(`Cannot open ${serial}: ${error.message}`, { cause: error }))
          return
        }
        port.on('data', (chunk: Buffer) => this.#receive(chunk))
        port.on('error', (portError: Error) => this.#lost(port, portError))
        port.on('close', (closeError: Error | null) => this.#lost(port, closeError))
        this.#port = port
        resolve(port)
      })
    })
  }

  /** The port went away (unplugged, the pty's other end closed): the next request opens it again. */
  #lost(port: SerialPort, error: Error | null) {
    if (this.#port !== port) return
    this.#port = null
    if (port.isOpen) port.close(() => {})
    const reason = error?.message ? `: ${error.message}` : ''
    this.#pending?.reject(new ModbusPortError(`${this.name} went away${reason}`))
  }

  async #quiet() {
    for (;;) {
      const left = this.#lastByteAt + this.#silenceMs - performance.now()
      if (left <= 0) return
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)))
    }
  }

  #receive(chunk: Buffer) {
    this.#lastByteAt = performance.now()
    const pending = this.#pending
    if (!pending) return
    let received = Buffer.concat([this.#received, chunk])
    /** Bytes before the unit's id are noise from drivers turning around. */
    const start = received.indexOf(pending.unitId)
    received = start < 0 ? Buffer.alloc(0) : received.subarray(start)
    this.#received = received

    const length = rtuAnswerLength(received)
    if (length === null || received.length < length) return
    if (length === 0) {
      pending.reject(
        new ModbusFrameError(
          `Unit ${pending.unitId} on ${this.name} answered with function ${received[1]}, which no request uses (${received.toString('hex')})`
        )
      )
      return
    }
    const frame = received.subarray(0, length)
    if (frame.readUInt16LE(length - 2) !== modbusCrc(frame.subarray(0, length - 2))) {
      pending.reject(new ModbusCrcError(this.name, pending.unitId, frame))
      return
    }
    if ((frame[1] & 0x7f) !== pending.functionCode) {
      pending.reject(
        new ModbusFrameError(
          `Unit ${pending.unitId} on ${this.name} answered function ${frame[1] & 0x7f} to function ${pending.functionCode}`
        )
      )
      return
    }
    pending.resolve(Buffer.from(frame.subarray(1, length - 2)))
  }
}
