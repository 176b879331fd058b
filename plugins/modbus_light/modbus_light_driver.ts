import {
  applyLightCommand,
  lightOff,
  ModbusUnit,
  PluginError,
  type LightCommand,
  type LightDriver,
  type LightState,
  type ModbusUnitSettings,
  type PluginContext,
  type PluginHealth,
} from '#plugin-sdk'

export interface ModbusLightConfig extends ModbusUnitSettings {
  label?: string
  /** A relay that switches the light. */
  coil?: number
  /** A register that sets its brightness, from 0 to `levelMax` (100 if not given). */
  levelRegister?: number
  levelMax?: number
}

/**
 * A light on a Modbus board: a relay (coil) that switches it, a dimmer
 * register that sets its brightness, or both. With both, switching off
 * opens the relay and leaves the dimmer where it was; with a register
 * alone, off writes 0. A light comes up dark after every start; a
 * command the board does not take leaves the state as it was.
 */
export class ModbusLightDriver implements LightDriver {
  #unit: ModbusUnit | null = null
  #state: LightState = lightOff

  constructor(private context: PluginContext<ModbusLightConfig>) {}

  async start() {
    const unit = new ModbusUnit(this.context.config)
    try {
      await this.#apply(unit, lightOff)
    } catch (error) {
      await unit.release()
      throw error
    }
    this.#unit = unit
    this.#state = lightOff
  }

  async stop() {
    const unit = this.#unit
    this.#unit = null
    await unit?.release()
  }

  async health(): Promise<PluginHealth> {
    const unit = this.#unit
    if (!unit) return { status: 'error', message: 'Not started' }
    const { coil, levelRegister } = this.context.config
    try {
      if (coil !== undefined) await unit.readBits('coils', coil, 1)
      else await unit.readRegisters('holding_registers', levelRegister!, 1)
    } catch (error) {
      return { status: 'error', message: (error as Error).message, details: { ...unit.status } }
    }
    return {
      status: 'ok',
      message: `Light on ${unit.name}`,
      details: { ...this.#state, ...unit.status },
    }
  }

  async set(command: LightCommand) {
    const unit = this.#unit
    if (!unit) throw new PluginError('The Modbus light is not started', 'E_PLUGIN_STOPPED')
    const next = applyLightCommand(this.#state, command)
    await this.#apply(unit, next)
    this.#state = next
  }

  async state() {
    return { ...this.#state }
  }

  /** Brightness before the relay closes, and the relay before the brightness goes to 0. */
  async #apply(unit: ModbusUnit, state: LightState) {
    const { coil, levelRegister, levelMax = 100 } = this.context.config
    const level = Math.round((state.level * levelMax) / 100)
    if (state.on) {
      if (levelRegister !== undefined) await unit.writeRegister(levelRegister, level)
      if (coil !== undefined) await unit.writeCoil(coil, true)
    } else {
      if (coil !== undefined) await unit.writeCoil(coil, false)
      else await unit.writeRegister(levelRegister!, 0)
    }
  }
}
