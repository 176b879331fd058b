import { resolve } from 'node:path'
import { PluginError } from '#plugin-host/errors'
import { ModbusBus, type ModbusRequestOptions } from '#plugin-host/modbus/bus'
import {
  readBits,
  readRegisters,
  writeCoil,
  writeRegister,
  writeRegisters,
  type BitTable,
  type ModbusRequest,
  type RegisterTable,
} from '#plugin-host/modbus/pdu'
import { RtuTransport, type SerialSettings } from '#plugin-host/modbus/rtu_transport'
import { TcpTransport, type TcpSettings } from '#plugin-host/modbus/tcp_transport'

/** A serial bus (RTU) or a TCP endpoint, as an instance's `bus` config gives it. */
export type ModbusBusSettings =
  | ({ serial: string } & Partial<Omit<SerialSettings, 'serial'>>)
  | ({ host: string } & Partial<Omit<TcpSettings, 'host'>>)

export interface ModbusUnitSettings {
  bus: ModbusBusSettings
  /** The board's address on the bus, 1–247. */
  unitId: number
  /** How long the board has to answer one attempt; 300 ms if not given. */
  timeoutMs?: number
  /** Attempts after the first on a timeout or damaged answer; 2 if not given. */
  retries?: number
}

/** 9600 baud, 8 data bits, no parity, one stop bit: what most RS-485 boards ship with. */
export const serialDefaults = { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 } as const
export const modbusTcpPort = 502
export const requestDefaults = { timeoutMs: 300, retries: 2 }

interface SharedBus {
  bus: ModbusBus
  settings: string
  users: number
}

/**
 * Buses by port or endpoint, shared by every instance in the process
 * that names the same one: a gate board and a light board on one RS-485
 * pair share one queue.
 */
const buses = new Map<string, SharedBus>()

function complete(settings: ModbusBusSettings): SerialSettings | TcpSettings {
  if ('host' in settings) return { host: settings.host, port: settings.port ?? modbusTcpPort }
  return {
    serial: resolve(settings.serial),
    baudRate: settings.baudRate ?? serialDefaults.baudRate,
    parity: settings.parity ?? serialDefaults.parity,
    dataBits: settings.dataBits ?? serialDefaults.dataBits,
    stopBits: settings.stopBits ?? serialDefaults.stopBits,
  }
}

function acquire(settings: ModbusBusSettings) {
  const full = complete(settings)
  const key = 'host' in full ? `tcp:${full.host}:${full.port}` : `rtu:${full.serial}`
  const described = JSON.stringify(full)
  let shared = buses.get(key)
  if (shared && shared.settings !== described) {
    throw new PluginError(
      `${shared.bus.name} is already in use with other settings (${shared.settings}); every instance on a bus must give the same`,
      'E_MODBUS_BUS_CONFLICT'
    )
  }
  if (!shared) {
    const transport = 'host' in full ? new TcpTransport(full) : new RtuTransport(full)
    shared = { bus: new ModbusBus(transport), settings: described, users: 0 }
    buses.set(key, shared)
  }
  shared.users++
  const lease = shared
  let released = false
  return {
    bus: shared.bus,
    async release() {
      if (released) return
      released = true
      lease.users--
      if (lease.users === 0 && buses.get(key) === lease) {
        buses.delete(key)
        await lease.bus.close()
      }
    },
  }
}

type CallOptions = Partial<ModbusRequestOptions>

/**
 * One board on a bus, as a driver uses it: reads and writes by table and
 * address, through the bus's queue, with the instance's timeout and
 * retries unless a call gives its own. `release()` (in the driver's
 * `stop()`) lets the bus close when no instance uses it any more.
 */
export class ModbusUnit {
  readonly unitId: number
  readonly bus: ModbusBus
  readonly #defaults: ModbusRequestOptions
  readonly #release: () => Promise<void>

  constructor(settings: ModbusUnitSettings) {
    const lease = acquire(settings.bus)
    this.bus = lease.bus
    this.#release = lease.release
    this.unitId = settings.unitId
    this.#defaults = {
      timeoutMs: settings.timeoutMs ?? requestDefaults.timeoutMs,
      retries: settings.retries ?? requestDefaults.retries,
    }
  }

  /** `unit 3 on /dev/ttyUSB0` */
  get name() {
    return `unit ${this.unitId} on ${this.bus.name}`
  }

  get status() {
    return this.bus.unitStatus(this.unitId)
  }

  request<Result>(request: ModbusRequest<Result>, options: CallOptions = {}) {
    return this.bus.request(this.unitId, request, { ...this.#defaults, ...options })
  }

  readBits(table: BitTable, address: number, count = 1, options?: CallOptions) {
    return this.request(readBits(table, address, count), options)
  }

  readRegisters(table: RegisterTable, address: number, count = 1, options?: CallOptions) {
    return this.request(readRegisters(table, address, count), options)
  }

  writeCoil(address: number, on: boolean, options?: CallOptions) {
    return this.request(writeCoil(address, on), options)
  }

  writeRegister(address: number, value: number, options?: CallOptions) {
    return this.request(writeRegister(address, value), options)
  }

  writeRegisters(address: number, values: number[], options?: CallOptions) {
    return this.request(writeRegisters(address, values), options)
  }

  release() {
    return this.#release()
  }
}
