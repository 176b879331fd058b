import {
  ModbusPortError,
  ModbusTimeoutError,
  ModbusUnit,
  PluginCommandError,
  PluginError,
  type DoorEvent,
  type GateDriver,
  type GateInputReading,
  type GateInputs,
  type GateState,
  type ModbusTable,
  type ModbusUnitSettings,
  type PluginContext,
  type PluginHealth,
} from '#plugin-sdk'
import { DoorMonitor, type DoorSample } from './door_monitor.js'

/** A relay (coil) the driver switches on, and off again when the time is up. */
export interface CoilOpening {
  coil: number
}

/**
 * A command written to a holding register: `value` opens. The duration
 * goes to `durationRegister`, or is added to `value` (`durationInValue`,
 * as boards whose "momentary" command carries its seconds do), in
 * `durationUnitMs` units; a board given a duration times itself. Without
 * one, `closeValue` is written when the time is up.
 */
export interface RegisterOpening {
  register: number
  value: number
  durationRegister?: number
  durationInValue?: boolean
  durationUnitMs?: number
  closeValue?: number
}

export interface WiredInput {
  table: ModbusTable
  address: number
  /** The reading that means active (door open, button pressed); 1 if not given. */
  activeWhen?: number
}

export interface ModbusGateConfig extends ModbusUnitSettings {
  label?: string
  open: CoilOpening | RegisterOpening
  inputs?: {
    door?: WiredInput
    exitButton?: WiredInput
    pollMs?: number
    heldOpenSeconds?: number
    graceSeconds?: number
    exitOpenSeconds?: number
    faultAfter?: number
  }
}

/** The shortest and longest opening the driver times, in milliseconds. */
export const modbusGateDurations = { minMs: 100, maxMs: 600_000 }

export const inputDefaults = {
  pollMs: 200,
  heldOpenSeconds: 30,
  graceSeconds: 3,
  exitOpenSeconds: 5,
  faultAfter: 3,
}

/** How often a relay that did not switch off is asked again. */
const closeRetryMs = 500

/** Failures that mean the board or its bus is gone, rather than a refused request. */
function isSilence(error: unknown) {
  return error instanceof ModbusTimeoutError || error instanceof ModbusPortError
}

/**
 * A door lock, turnstile or barrier on a Modbus board. Opening switches a
 * relay or writes a command; the gate comes up closed after every start
 * (the relay switched off). With a door contact and an exit button wired
 * to the board's inputs, it polls them and reports the door forced or
 * held open and each press of the button, which also opens the gate.
 * A board that stops answering is reported once as a gate fault and makes
 * the instance unhealthy, so the host restarts it with backoff until the
 * board answers again.
 */
export class ModbusGateDriver implements GateDriver {
  #unit: ModbusUnit | null = null
  #running = false
  #generation = 0
  #closesAt = 0
  #closeTimer: NodeJS.Timeout | null = null
  #pollTimer: NodeJS.Timeout | null = null
  #pollFailures = 0
  #monitor: DoorMonitor
  #fault: string | null = null
  #faultReported = false
  #stuckOpen: string | null = null
  readonly #inputs

  constructor(private context: PluginContext<ModbusGateConfig>) {
    this.#inputs = { ...inputDefaults, ...context.config.inputs }
    this.#monitor = new DoorMonitor({
      heldOpenMs: this.#inputs.heldOpenSeconds * 1000,
      graceMs: this.#inputs.graceSeconds * 1000,
    })
  }

  get #wired() {
    return Boolean(this.#inputs.door || this.#inputs.exitButton)
  }

  async start() {
    const unit = new ModbusUnit(this.context.config)
    this.#unit = unit
    const generation = ++this.#generation
    try {
      await this.#shut(unit)
    } catch (error) {
      this.#unit = null
      await unit.release()
      this.#failed(error)
      throw error
    }
    this.#answered()
    this.#closesAt = 0
    this.#running = true
    if (this.#wired) this.#schedulePoll(generation, 0)
  }

  async stop() {
    this.#running = false
    this.#generation++
    this.#clearTimers()
    const unit = this.#unit
    this.#unit = null
    if (!unit) return
    if (this.#closesAt > Date.now()) {
      await this.#shut(unit, { retries: 0 }).catch((error) => {
        this.context.logger.warn({ err: error }, 'the gate could not be closed while stopping')
      })
    }
    this.#closesAt = 0
    await unit.release()
  }

  async health(): Promise<PluginHealth> {
    const unit = this.#unit
    if (!this.#running || !unit) return { status: 'error', message: 'Not started' }
    if (!this.#wired && !this.#stuckOpen) await this.#probe(unit)
    const { position } = await this.state()
    const details = {
      unit: unit.name,
      position,
      door: this.#inputs.door ? (this.#monitor.doorOpen ? 'open' : 'closed') : 'not wired',
      ...unit.status,
    }
    if (this.#stuckOpen) return { status: 'error', message: this.#stuckOpen, details }
    if (this.#fault) return { status: 'error', message: this.#fault, details }
    return { status: 'ok', message: `${this.#describe()} on ${unit.name}`, details }
  }

  async open({ durationMs }: { durationMs: number }) {
    const unit = this.#unit
    if (!this.#running || !unit) {
      throw new PluginError('The Modbus gate is not started', 'E_PLUGIN_STOPPED')
    }
    const { minMs, maxMs } = modbusGateDurations
    if (!Number.isInteger(durationMs) || durationMs < minMs || durationMs > maxMs) {
      throw new PluginCommandError(
        `The gate opens for a whole number of milliseconds from ${minMs} to ${maxMs}, not ${durationMs}`
      )
    }
    const { open } = this.context.config
    const writes = 'coil' in open ? null : this.#commandWrites(open, durationMs)
    try {
      if ('coil' in open) await unit.writeCoil(open.coil, true, { priority: 'command' })
      else for (const [register, value] of writes!) await unit.writeRegister(register, value)
    } catch (error) {
      this.#failed(error)
      throw error
    }
    this.#answered()
    this.#closesAt = Date.now() + durationMs
    this.#monitor.released(this.#closesAt)
    this.context.logger.info({ durationMs, unit: unit.name }, 'gate opened')
    if ('coil' in open || open.closeValue !== undefined) this.#closeAfter(durationMs)
  }

  async state(): Promise<GateState> {
    const released = this.#closesAt > Date.now()
    return {
      position: released || this.#monitor.doorOpen ? 'open' : 'closed',
      closesAt: released ? new Date(this.#closesAt) : null,
    }
  }

  async readInputs(): Promise<GateInputs> {
    const unit = this.#unit
    if (!this.#running || !unit) {
      throw new PluginError('The Modbus gate is not started', 'E_PLUGIN_STOPPED')
    }
    const { door, exitButton } = this.#inputs
    return {
      door: door ? await this.#readInput(unit, door, 'command') : null,
      exitButton: exitButton ? await this.#readInput(unit, exitButton, 'command') : null,
    }
  }

  #describe() {
    const { open } = this.context.config
    return 'coil' in open ? `Relay ${open.coil}` : `Command register ${open.register}`
  }

  /** The register writes that open for `durationMs`, checked against what the board can take. */
  #commandWrites(open: RegisterOpening, durationMs: number): [number, number][] {
    const timedByBoard = open.durationRegister !== undefined || open.durationInValue
    if (!timedByBoard) return [[open.register, open.value]]
    const unitMs = open.durationUnitMs ?? 1000
    const units = Math.round(durationMs / unitMs)
    const value = open.durationInValue ? open.value + units : open.value
    if (units < 1 || value > 0xffff || units > 0xffff) {
      throw new PluginCommandError(
        `This board takes its opening time in steps of ${unitMs} ms; ${durationMs} ms does not fit`
      )
    }
    return open.durationRegister === undefined
      ? [[open.register, value]]
      : [
          [open.durationRegister, units],
          [open.register, value],
        ]
  }

  /**
   * The closed state: the relay off or the close command written. A board
   * that times its own openings is only asked whether it answers.
   */
  async #shut(unit: ModbusUnit, options: { retries?: number } = {}) {
    const { open } = this.context.config
    if ('coil' in open) await unit.writeCoil(open.coil, false, options)
    else if (open.closeValue !== undefined) {
      await unit.writeRegister(open.register, open.closeValue, options)
    } else await unit.readRegisters('holding_registers', open.register, 1, options)
  }

  async #probe(unit: ModbusUnit) {
    const { open } = this.context.config
    try {
      if ('coil' in open) await unit.readBits('coils', open.coil, 1)
      else await unit.readRegisters('holding_registers', open.register, 1)
      this.#answered()
    } catch (error) {
      this.#failed(error)
    }
  }

  /** Switches the relay off when the time is up, asking again until the board takes it. */
  #closeAfter(delayMs: number) {
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    const generation = this.#generation
    this.#closeTimer = setTimeout(async () => {
      this.#closeTimer = null
      const unit = this.#unit
      if (generation !== this.#generation || !unit) return
      /** Timers may fire a little before the wall clock says they are due. */
      const early = this.#closesAt - Date.now()
      if (early > 0) {
        this.#closeAfter(early)
        return
      }
      try {
        await this.#shut(unit)
        this.#stuckOpen = null
        this.#answered()
        this.context.logger.info({ unit: unit.name }, 'gate closed')
      } catch (error) {
        if (generation !== this.#generation) return
        this.#stuckOpen = `The gate could not be closed: ${(error as Error).message}`
        this.context.logger.error({ err: error, unit: unit.name }, 'the gate could not be closed')
        this.#failed(error)
        this.#closeAfter(closeRetryMs)
      }
    }, delayMs)
  }

  #schedulePoll(generation: number, delayMs: number) {
    this.#pollTimer = setTimeout(() => void this.#poll(generation), delayMs)
  }

  async #poll(generation: number) {
    const unit = this.#unit
    if (generation !== this.#generation || !unit) return
    try {
      const sample = await this.#readInputs(unit)
      if (generation !== this.#generation) return
      this.#answered()
      for (const event of this.#monitor.sample(sample)) this.#handle(event)
    } catch (error) {
      if (generation !== this.#generation) return
      this.#pollFailures++
      if (this.#pollFailures >= this.#inputs.faultAfter) this.#failed(error)
    }
    if (generation === this.#generation) this.#schedulePoll(generation, this.#inputs.pollMs)
  }

  async #readInputs(unit: ModbusUnit): Promise<DoorSample> {
    const { door, exitButton } = this.#inputs
    const doorReading = door ? await this.#readInput(unit, door, 'poll') : null
    const exitReading = exitButton ? await this.#readInput(unit, exitButton, 'poll') : null
    return {
      doorOpen: doorReading?.active ?? null,
      exitPressed: exitReading?.active ?? null,
      at: Date.now(),
    }
  }

  async #readInput(
    unit: ModbusUnit,
    input: WiredInput,
    priority: 'poll' | 'command'
  ): Promise<GateInputReading> {
    let raw: number
    if (input.table === 'coils' || input.table === 'discrete_inputs') {
      const [bit] = await unit.readBits(input.table, input.address, 1, { priority })
      raw = Number(bit)
    } else {
      ;[raw] = await unit.readRegisters(input.table, input.address, 1, { priority })
    }
    return { active: raw === (input.activeWhen ?? 1), raw }
  }

  #handle(event: DoorEvent) {
    this.#report(event)
    if (event.type === 'exit_button' && this.#inputs.exitOpenSeconds > 0) {
      this.open({ durationMs: this.#inputs.exitOpenSeconds * 1000 }).catch((error) => {
        this.context.logger.error({ err: error }, 'the exit button could not open the gate')
      })
    }
  }

  #report(event: DoorEvent) {
    this.context.logger.info({ event: event.type, message: event.message }, 'door event')
    this.context.report(event)
  }

  #answered() {
    this.#pollFailures = 0
    this.#fault = null
    this.#faultReported = false
  }

  /** A silent board or a lost port is a fault, reported once until the board answers again. */
  #failed(error: unknown) {
    if (!isSilence(error)) return
    this.#fault = (error as Error).message
    if (this.#faultReported) return
    this.#faultReported = true
    this.#report({ type: 'gate_fault', at: new Date(), message: this.#fault })
  }

  #clearTimers() {
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    this.#closeTimer = null
    this.#pollTimer = null
  }
}
