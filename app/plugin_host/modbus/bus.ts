import {
  ModbusBusyError,
  ModbusCrcError,
  ModbusExceptionError,
  ModbusFrameError,
  ModbusPortError,
  ModbusTimeoutError,
} from '#plugin-host/modbus/errors'
import type { ModbusRequest } from '#plugin-host/modbus/pdu'
import type { ModbusTransport } from '#plugin-host/modbus/transport'

export interface ModbusRequestOptions {
  /** How long the unit has to answer each attempt. */
  timeoutMs: number
  /** Further attempts after a timeout, a CRC error or a garbled answer. */
  retries: number
  /**
   * `command` (opening a door) goes before every `poll` (reading inputs)
   * already waiting, so that a busy bus does not delay a door.
   */
  priority?: 'command' | 'poll'
}

/** What a bus has seen of one unit, for health reports. */
export interface ModbusUnitStatus {
  requests: number
  answered: number
  timeouts: number
  crcErrors: number
  frameErrors: number
  exceptions: number
  portErrors: number
  /** Failed requests in a row, retries included in each. */
  failuresInARow: number
  lastAnswerAt: Date | null
  lastError: { message: string; code: string; at: Date } | null
}

interface Job {
  run(): Promise<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** Requests that may wait for the bus; past that, polls are refused rather than queued. */
const maxWaiting = 64

/**
 * One Modbus bus: every request to any unit on it goes through one queue,
 * one at a time, because RS-485 is half duplex and units share the pair by
 * their ids (and a TCP gateway in front of RS-485 is no different). Each
 * attempt has its timeout, so a unit that does not answer delays the
 * others by its timeout and retries, never longer; Modbus exceptions are
 * the unit's answer and are not retried.
 */
export class ModbusBus {
  #commands: Job[] = []
  #polls: Job[] = []
  #busy = false
  #units = new Map<number, ModbusUnitStatus>()

  constructor(readonly transport: ModbusTransport) {}

  get name() {
    return this.transport.name
  }

  get waiting() {
    return this.#commands.length + this.#polls.length
  }

  unitStatus(unitId: number): ModbusUnitStatus {
    let status = this.#units.get(unitId)
    if (!status) {
      status = {
        requests: 0,
        answered: 0,
        timeouts: 0,
        crcErrors: 0,
        frameErrors: 0,
        exceptions: 0,
        portErrors: 0,
        failuresInARow: 0,
        lastAnswerAt: null,
        lastError: null,
      }
      this.#units.set(unitId, status)
    }
    return status
  }

  request<Result>(
    unitId: number,
    request: ModbusRequest<Result>,
    options: ModbusRequestOptions
  ): Promise<Result> {
    const priority = options.priority ?? 'command'
    if (priority === 'poll' && this.waiting >= maxWaiting) {
      return Promise.reject(new ModbusBusyError(this.name, this.waiting))
    }
    return new Promise<Result>((resolve, reject) => {
      const job: Job = {
        run: () => this.#attempts(unitId, request, options),
        resolve: resolve as (value: unknown) => void,
        reject,
      }
      ;(priority === 'command' ? this.#commands : this.#polls).push(job)
      void this.#drain()
    })
  }

  close() {
    const error = new ModbusPortError(`${this.name} was closed`)
    for (const job of [...this.#commands.splice(0), ...this.#polls.splice(0)]) job.reject(error)
    return this.transport.close()
  }

  async #drain() {
    if (this.#busy) return
    this.#busy = true
    try {
      for (let job = this.#next(); job; job = this.#next()) {
        try {
          job.resolve(await job.run())
        } catch (error) {
          job.reject(error)
        }
      }
    } finally {
      this.#busy = false
    }
  }

  #next() {
    return this.#commands.shift() ?? this.#polls.shift()
  }

  async #attempts<Result>(
    unitId: number,
    request: ModbusRequest<Result>,
    { timeoutMs, retries }: ModbusRequestOptions
  ): Promise<Result> {
    const status = this.unitStatus(unitId)
    status.requests++
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.transport.exchange(unitId, request.pdu, timeoutMs)
        if (answer[0] === (request.functionCode | 0x80)) {
          throw new ModbusExceptionError(this.name, unitId, request.functionCode, answer[1] ?? 0)
        }
        const result = request.parse(answer)
        status.answered++
        status.failuresInARow = 0
        status.lastAnswerAt = new Date()
        return result
      } catch (error) {
        this.#count(status, error)
        const retry =
          attempt <= retries &&
          (error instanceof ModbusTimeoutError ||
            error instanceof ModbusCrcError ||
            error instanceof ModbusFrameError)
        if (retry) continue
        const failure =
          error instanceof ModbusTimeoutError
            ? new ModbusTimeoutError(this.name, unitId, timeoutMs, attempt)
            : error
        if (!(error instanceof ModbusExceptionError)) status.failuresInARow++
        else status.failuresInARow = 0
        const { message, code } = failure as ModbusTimeoutError
        status.lastError = { message, code, at: new Date() }
        throw failure
      }
    }
  }

  #count(status: ModbusUnitStatus, error: unknown) {
    if (error instanceof ModbusTimeoutError) status.timeouts++
    else if (error instanceof ModbusCrcError) status.crcErrors++
    else if (error instanceof ModbusFrameError) status.frameErrors++
    else if (error instanceof ModbusExceptionError) {
      status.exceptions++
      status.lastAnswerAt = new Date()
    } else if (error instanceof ModbusPortError) status.portErrors++
  }
}
