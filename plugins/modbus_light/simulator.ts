import { SimulatedModbusBoard, type LightSimulator, type LightState } from '#plugin-sdk'

/** Where the simulated light is wired: a relay and a dimmer taking 0–1000. */
export const simulatedLight = { unitId: 3, coil: 4, levelRegister: 20, levelMax: 1000 }

/**
 * A relay and dimmer board in memory behind Modbus TCP on loopback,
 * with a light on relay 4 and dimmer register 20.
 */
export default class ModbusLightSimulator implements LightSimulator {
  readonly invalidConfigs = [
    {},
    { bus: { host: '127.0.0.1' }, unitId: 1 },
    { bus: { host: '127.0.0.1' }, unitId: 1, coil: -1 },
    { bus: { host: '127.0.0.1' }, unitId: 1, levelRegister: 2, levelMax: 0 },
    { bus: { serial: '/dev/ttyUSB0', parity: 'mark' }, unitId: 1, coil: 0 },
  ]

  readonly board = new SimulatedModbusBoard()

  async start() {
    const bus = await this.board.start()
    return { label: 'Simulated fill light', bus, timeoutMs: 200, retries: 1, ...simulatedLight }
  }

  async stop() {
    await this.board.stop()
  }

  /** Lit while the relay is on, at the dimmer's brightness (which the relay leaves alone). */
  async observedLight(): Promise<LightState> {
    const { unitId, coil, levelRegister, levelMax } = simulatedLight
    return {
      on: Boolean(this.board.get(unitId, 'coils', coil)),
      level: Math.round(
        (this.board.get(unitId, 'holding_registers', levelRegister) * 100) / levelMax
      ),
      color: null,
    }
  }
}
