import { SimulatedModbusBoard, type GateSimulator, type GateState } from '#plugin-sdk'

/** Where the simulated door is wired on its board. */
export const simulatedWiring = { unitId: 1, relay: 0, doorContact: 0, exitButton: 1 }

/**
 * A relay board with a door on it, in memory behind Modbus TCP on
 * loopback: relay 0 releases the lock, discrete input 0 is the door
 * contact (1 = open) and input 1 the exit button. A test opens the door
 * or presses the button as a person would, and sees the relay switch.
 */
export default class ModbusGateSimulator implements GateSimulator {
  readonly invalidConfigs = [
    {},
    { bus: { serial: '' }, unitId: 1, open: { coil: 0 } },
    { bus: { host: '127.0.0.1' }, unitId: 0, open: { coil: 0 } },
    { bus: { host: '127.0.0.1' }, unitId: 248, open: { coil: 0 } },
    { bus: { serial: '/dev/ttyUSB0', baudRate: 1234 }, unitId: 1, open: { coil: 0 } },
    { bus: { serial: '/dev/ttyUSB0' }, unitId: 1, open: { coil: -1 } },
    { bus: { serial: '/dev/ttyUSB0' }, unitId: 1, open: { register: 1 } },
    { bus: { serial: '/dev/ttyUSB0' }, unitId: 1, open: { coil: 0 }, timeoutMs: 5 },
    {
      bus: { serial: '/dev/ttyUSB0' },
      unitId: 1,
      open: { coil: 0 },
      inputs: { door: { table: 'outputs', address: 0 } },
    },
  ]

  readonly board = new SimulatedModbusBoard()

  async start() {
    const bus = await this.board.start()
    const { unitId, relay, doorContact, exitButton } = simulatedWiring
    return {
      label: 'Simulated door',
      bus,
      unitId,
      timeoutMs: 200,
      retries: 1,
      open: { coil: relay },
      inputs: {
        door: { table: 'discrete_inputs', address: doorContact },
        exitButton: { table: 'discrete_inputs', address: exitButton },
        pollMs: 50,
      },
    }
  }

  async stop() {
    await this.board.stop()
  }

  /** The lock is released while its relay is on. */
  async observedGate(): Promise<GateState['position']> {
    const { unitId, relay } = simulatedWiring
    return this.board.get(unitId, 'coils', relay) ? 'open' : 'closed'
  }

  /** Someone pushes the door open, or lets it close. */
  setDoor(open: boolean) {
    this.board.set(simulatedWiring.unitId, 'discrete_inputs', simulatedWiring.doorContact, open)
  }

  /** Someone presses the exit button, or lets go of it. */
  setExitButton(pressed: boolean) {
    this.board.set(simulatedWiring.unitId, 'discrete_inputs', simulatedWiring.exitButton, pressed)
  }

  /** The relay's switchings, oldest first, with the board's clock (performance.now()). */
  relayWrites() {
    const { unitId, relay } = simulatedWiring
    return this.board.writes.filter(
      (write) => write.unitId === unitId && write.table === 'coils' && write.address === relay
    )
  }
}
