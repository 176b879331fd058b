import { Socket } from 'node:net'
import { ModbusFrameError, ModbusPortError, ModbusTimeoutError } from '#plugin-host/modbus/errors'
import type { ModbusTransport } from '#plugin-host/modbus/transport'

export interface TcpSettings {
  host: string
  port: number
}

interface Pending {
  unitId: number
  functionCode: number
  settle(outcome: Buffer | Error): void
}

/**
 * Modbus TCP (MBAP header, no CRC) to a board with an Ethernet port or an
 * RS-485 gateway. Answers are matched by transaction id, so a late one to
 * a request that timed out is dropped. The connection is made on the
 * first request, within that request's timeout, and again after it drops.
 */
export class TcpTransport implements ModbusTransport {
  readonly name: string
  #socket: Socket | null = null
  #connecting: Promise<Socket> | null = null
  #received = Buffer.alloc(0)
  #transaction = 0
  #pending = new Map<number, Pending>()
  #closed = false

  constructor(private settings: TcpSettings) {
    this.name = `${settings.host}:${settings.port}`
  }

  async exchange(unitId: number, pdu: Buffer, timeoutMs: number) {
    const started = performance.now()
    const socket = await this.#connect(timeoutMs)
    const transaction = (this.#transaction = (this.#transaction + 1) & 0xffff)
    const frame = Buffer.alloc(7 + pdu.length)
    frame.writeUInt16BE(transaction, 0)
    frame.writeUInt16BE(0, 2)
    frame.writeUInt16BE(pdu.length + 1, 4)
    frame[6] = unitId
    pdu.copy(frame, 7)

    const left = Math.max(1, timeoutMs - (performance.now() - started))
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new ModbusTimeoutError(this.name, unitId, timeoutMs, 1)),
        left
      )
      const settle = (outcome: Buffer | Error) => {
        if (!this.#pending.delete(transaction)) return
        clearTimeout(timer)
        if (outcome instanceof Error) reject(outcome)
        else resolve(outcome)
      }
      this.#pending.set(transaction, { unitId, functionCode: pdu[0], settle })
      socket.write(frame)
    })
  }

  async close() {
    this.#closed = true
    const socket = this.#socket ?? (await this.#connecting?.catch(() => null))
    this.#socket = null
    socket?.destroy()
    this.#failAll(new ModbusPortError(`${this.name} was closed`))
  }

  #connect(timeoutMs: number) {
    if (this.#socket) return Promise.resolve(this.#socket)
    if (this.#closed) return Promise.reject(new ModbusPortError(`${this.name} was closed`))
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = new Socket()
      const timer = setTimeout(() => {
        socket.destroy()
        fail(new Error(`no connection within ${timeoutMs} ms`))
      }, timeoutMs)
      const fail = (error: Error) => {
        clearTimeout(timer)
        this.#connecting = null
        reject(new ModbusPortError(`Cannot connect to ${this.name}: ${error.message}`))
      }
      socket.once('error', fail)
      socket.connect(this.settings.port, this.settings.host, () => {
        clearTimeout(timer)
        socket.off('error', fail)
        socket.setNoDelay(true)
        socket.on('data', (chunk) => this.#receive(chunk))
        socket.on('error', () => {})
        socket.on('close', () => this.#lost(socket))
        this.#connecting = null
        this.#received = Buffer.alloc(0)
        this.#socket = socket
        resolve(socket)
      })
    })
    return this.#connecting
  }

  #lost(socket: Socket) {
    if (this.#socket !== socket) return
    this.#socket = null
    this.#failAll(new ModbusPortError(`The connection to ${this.name} closed`))
  }

  #failAll(error: Error) {
    for (const pending of [...this.#pending.values()]) pending.settle(error)
  }

  #receive(chunk: Buffer) {
    this.#received = Buffer.concat([this.#received, chunk])
    while (this.#received.length >= 7) {
      const length = this.#received.readUInt16BE(4)
      if (this.#received.length < 6 + length) return
      const frame = this.#received.subarray(0, 6 + length)
      this.#received = this.#received.subarray(6 + length)
      const pending = this.#pending.get(frame.readUInt16BE(0))
      if (!pending) continue
      if (length < 2 || (frame[7] & 0x7f) !== pending.functionCode) {
        pending.settle(
          new ModbusFrameError(
            `${this.name} answered transaction ${frame.readUInt16BE(0)} with ${frame.subarray(7).toString('hex')}`
          )
        )
        continue
      }
      pending.settle(Buffer.from(frame.subarray(7)))
    }
  }
}
