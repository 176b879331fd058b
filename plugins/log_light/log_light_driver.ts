import { open, type FileHandle } from 'node:fs/promises'
import {
  applyLightCommand,
  lightOff,
  PluginError,
  type LightCommand,
  type LightDriver,
  type LightState,
  type PluginContext,
  type PluginHealth,
} from '#plugin-sdk'

export interface LogLightConfig {
  /** What the light lights, for people reading the log. */
  label?: string
  /** A JSON-lines file each command is appended to, relative to the working directory. */
  file?: string
}

export interface LogLightRecord extends LightState {
  at: string
  instance: string
  label: string | null
  event: 'start' | 'set'
}

/**
 * A light with no hardware: it logs every state it is put in and, with a
 * `file`, appends it there as one JSON line. It stands in for a fill light
 * on a bench or in a demo, and is the smallest example of a driver.
 */
export class LogLightDriver implements LightDriver {
  #state: LightState = lightOff
  #running = false
  #file: FileHandle | null = null

  constructor(private context: PluginContext<LogLightConfig>) {}

  /**
   * A light comes up dark, as real fill lights do after power returns.
   */
  async start() {
    const { file } = this.context.config
    if (file && !this.#file) this.#file = await open(file, 'a')
    this.#state = lightOff
    this.#running = true
    await this.#record('start')
  }

  async stop() {
    this.#running = false
    const file = this.#file
    this.#file = null
    await file?.close()
  }

  async health(): Promise<PluginHealth> {
    if (!this.#running) return { status: 'error', message: 'Not started' }
    const { file } = this.context.config
    return {
      status: 'ok',
      message: file ? `Recording to ${file}` : 'Recording to the log',
      details: { ...this.#state },
    }
  }

  async set(command: LightCommand) {
    if (!this.#running) throw new PluginError('The log light is not started', 'E_PLUGIN_STOPPED')
    this.#state = applyLightCommand(this.#state, command)
    await this.#record('set')
  }

  async state() {
    return { ...this.#state }
  }

  async #record(event: LogLightRecord['event']) {
    const record: LogLightRecord = {
      at: new Date().toISOString(),
      instance: this.context.instanceId,
      label: this.context.config.label ?? null,
      event,
      ...this.#state,
    }
    this.context.logger.info({ ...record }, `light ${this.#state.on ? 'on' : 'off'}`)
    await this.#file?.write(`${JSON.stringify(record)}\n`)
  }
}
