import { createServer } from 'node:net'
import { EventEmitter } from 'node:events'
import type { ModbusTable } from '#plugin-host/modbus/pdu'

/** The size of each table of each simulated unit, from address 0. */
const tableSize = 256

type Tables = {
  coils: boolean[]
  discrete_inputs: boolean[]
  holding_registers: number[]
  input_registers: number[]
}

/** A write a master made, with the simulator's `performance.now()` when it arrived. */
export interface SimulatedWrite {
  unitId: number
  table: 'coils' | 'holding_registers'
  address: number
  value: number
  at: number
}

function illegalAddress() {
  return Object.assign(new Error('Illegal data address'), { modbusErrorCode: 2 })
}

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * Relay boards and I/O modules in memory, behind a Modbus TCP server on
 * loopback (modbus-serial's ServerTCP): every unit id answers, each with
 * 256 coils, discrete inputs, holding and input registers. Plugin
 * simulators and `npm run dev` drive it; a test sets inputs, reads what
 * was written and when, and silences units.
 */
export class SimulatedModbusBoard extends EventEmitter<{ write: [SimulatedWrite] }> {
  readonly writes: SimulatedWrite[] = []
  readonly silent = new Set<number>()
  #units = new Map<number, Tables>()
  #server: { close(callback: () => void): void } | null = null

  tables(unitId: number) {
    let tables = this.#units.get(unitId)
    if (!tables) {
      tables = {
        coils: new Array(tableSize).fill(false),
        discrete_inputs: new Array(tableSize).fill(false),
        holding_registers: new Array(tableSize).fill(0),
        input_registers: new Array(tableSize).fill(0),
      }
      this.#units.set(unitId, tables)
    }
    return tables
  }

  get(unitId: number, table: ModbusTable, address: number) {
    return Number(this.tables(unitId)[table][address])
  }

  /** What the board's inputs or outputs show, as a wire or a person would change it. */
  set(unitId: number, table: ModbusTable, address: number, value: number | boolean) {
    const tables = this.tables(unitId)
    if (table === 'coils' || table === 'discrete_inputs') tables[table][address] = Boolean(value)
    else tables[table][address] = Number(value)
  }

  /** Listens on 127.0.0.1 (`port`, or a free one) and gives the `bus` config that reaches it. */
  async start(port?: number) {
    const { ServerTCP } = await import('modbus-serial')
    const listenOn = port ?? (await freePort())
    const server = new ServerTCP(this.#vector(), { host: '127.0.0.1', port: listenOn })
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve())
      server.once('serverError', reject)
    })
    this.#server = server
    return { host: '127.0.0.1', port: listenOn }
  }

  async stop() {
    const server = this.#server
    this.#server = null
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  #vector() {
    /** A silent unit never answers, as a board with its power or its A/B pair cut. */
    const answer = <T>(unitId: number, value: () => T) =>
      this.silent.has(unitId) ? new Promise<T>(() => {}) : Promise.resolve().then(value)
    const read = (table: ModbusTable) => (address: number, unitId: number) =>
      answer(unitId, () => {
        const value = this.tables(unitId)[table][address]
        if (value === undefined) throw illegalAddress()
        return value
      })
    const write =
      (table: SimulatedWrite['table']) =>
      (address: number, value: boolean | number, unitId: number) =>
        answer(unitId, () => {
          if (address >= tableSize) throw illegalAddress()
          this.set(unitId, table, address, value)
          const record = { unitId, table, address, value: Number(value), at: performance.now() }
          this.writes.push(record)
          this.emit('write', record)
        })
    return {
      getCoil: read('coils'),
      getDiscreteInput: read('discrete_inputs'),
      getHoldingRegister: read('holding_registers'),
      getInputRegister: read('input_registers'),
      setCoil: write('coils'),
      setRegister: write('holding_registers'),
    }
  }
}
