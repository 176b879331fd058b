import { createInterface } from 'node:readline'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { SimulatedModbusBoard } from '#plugin-sdk'

const help = `Type: door open | door close | exit (press the exit button) | silent | answer | quit`

/**
 * A relay board with a door on it, for trying the Modbus plugins without
 * hardware: Modbus TCP on 127.0.0.1 (every unit id answers), relay 0
 * releases the lock, discrete input 0 is the door contact and input 1 the
 * exit button. It prints every write and takes commands on its input to
 * open the door, press the button or fall silent.
 */
export default class ModbusSimulateCommand extends BaseCommand {
  static commandName = 'modbus:simulate'
  static description = 'Run a simulated Modbus relay board with a door, over Modbus TCP'
  static options: CommandOptions = { staysAlive: true }

  @flags.number({ description: 'TCP port on 127.0.0.1 (default 1502)' })
  declare port?: number

  @flags.number({ description: 'The unit id the door is on (default 1)' })
  declare unit?: number

  async run() {
    const board = new SimulatedModbusBoard()
    const unitId = this.unit ?? 1
    const bus = await board.start(this.port ?? 1502)
    this.logger.success(
      `Modbus TCP board on ${bus.host}:${bus.port}; the door is on unit ${unitId}`
    )
    this.logger.info(
      `A gate for the plugins file: ${JSON.stringify({ id: 'sim-door', plugin: 'modbus-gate', config: { bus, unitId, open: { coil: 0 }, inputs: { door: { table: 'discrete_inputs', address: 0 }, exitButton: { table: 'discrete_inputs', address: 1 } } } })}`
    )
    this.logger.info(help)
    board.on('write', ({ unitId: unit, table, address, value }) => {
      const what =
        table === 'coils'
          ? `relay ${address} ${value ? 'on' : 'off'}`
          : `register ${address} = ${value}`
      this.logger.info(`unit ${unit}: ${what}`)
    })

    const input = createInterface({ input: process.stdin })
    const stopped = new Promise<void>((resolve) => {
      input.on('line', (line) => {
        const command = line.trim()
        if (command === 'door open') board.set(unitId, 'discrete_inputs', 0, true)
        else if (command === 'door close') board.set(unitId, 'discrete_inputs', 0, false)
        else if (command === 'exit') {
          board.set(unitId, 'discrete_inputs', 1, true)
          setTimeout(() => board.set(unitId, 'discrete_inputs', 1, false), 500)
        } else if (command === 'silent') board.silent.add(unitId)
        else if (command === 'answer') board.silent.delete(unitId)
        else if (command === 'quit') return resolve()
        else if (command) return this.logger.warning(help)
        if (command) this.logger.info(`ok: ${command}`)
      })
      input.on('close', resolve)
    })
    await stopped
    input.close()
    await board.stop()
    await this.terminate()
  }
}
