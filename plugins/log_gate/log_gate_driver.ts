import { open, type FileHandle } from 'node:fs/promises'
import {
  PluginCommandError,
  PluginError,
  type GateDriver,
  type GateState,
  type PluginContext,
  type PluginHealth,
} from '#plugin-sdk'

export interface LogGateConfig {
  /** The door the gate stands for, for people reading the log. */
  label?: string
  /** A JSON-lines file each command is appended to, relative to the working directory. */
  file?: string
}

export interface LogGateRecord {
  at: string
  instance: string
  label: string | null
  event: 'start' | 'open'
  /** How long an `open` keeps the gate open; null for `start`. */
  durationMs: number | null
  /** When the gate closes again (ISO 8601); null for `start`. */
  closesAt: string | null
}

/** The shortest and longest opening this gate accepts, in milliseconds. */
export const logGateDurations = { minMs: 100, maxMs: 600_000 }

/**
 * A gate with no hardware: it logs every opening and, with a `file`,
 * appends it there as one JSON line, then closes by itself when the time
 * is up. It stands in for a door on a bench or in a demo, and is the
 * smallest example of a gate driver.
 */
export class LogGateDriver implements GateDriver {
  #closesAt: Date | null = null
  #running = false
  #file: FileHandle | null = null

  constructor(private context: PluginContext<LogGateConfig>) {}

  /** A gate comes up closed, as a door lock does after power returns. */
  async start() {
    const { file } = this.context.config
    if (file && !this.#file) this.#file = await open(file, 'a')
    this.#closesAt = null
    this.#running = true
    await this.#record('start', null)
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
    const { position } = await this.state()
    return {
      status: 'ok',
      message: file ? `Recording to ${file}` : 'Recording to the log',
      details: { position },
    }
  }

  async open({ durationMs }: { durationMs: number }) {
    if (!this.#running) throw new PluginError('The log gate is not started', 'E_PLUGIN_STOPPED')
    const { minMs, maxMs } = logGateDurations
    if (!Number.isInteger(durationMs) || durationMs < minMs || durationMs > maxMs) {
      throw new PluginCommandError(
        `The gate opens for a whole number of milliseconds from ${minMs} to ${maxMs}, not ${durationMs}`
      )
    }
    this.#closesAt = new Date(Date.now() + durationMs)
    await this.#record('open', durationMs)
  }

  async state(): Promise<GateState> {
    const closesAt = this.#closesAt
    return closesAt && closesAt.getTime() > Date.now()
      ? { position: 'open', closesAt: new Date(closesAt) }
      : { position: 'closed', closesAt: null }
  }

  async #record(event: LogGateRecord['event'], durationMs: number | null) {
    const record: LogGateRecord = {
      at: new Date().toISOString(),
      instance: this.context.instanceId,
      label: this.context.config.label ?? null,
      event,
      durationMs,
      closesAt: event === 'open' ? (this.#closesAt?.toISOString() ?? null) : null,
    }
    this.context.logger.info({ ...record }, event === 'open' ? 'gate opened' : 'gate started')
    await this.#file?.write(`${JSON.stringify(record)}\n`)
  }
}
