import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GateSimulator, GateState } from '#plugin-sdk'
import type { LogGateRecord } from './log_gate_driver.js'

/**
 * The log gate's peer is the file it writes: the simulator gives it a
 * fresh one in a temporary folder and reads back the openings, the way
 * someone standing at the door would see it open and close.
 */
export default class LogGateSimulator implements GateSimulator {
  readonly invalidConfigs = [
    { file: '' },
    { file: 42 },
    { label: '   ' },
    { label: 'x'.repeat(81) },
  ]

  #folder: string | null = null

  get file() {
    if (!this.#folder) throw new Error('The log gate simulator is not started')
    return join(this.#folder, 'gate.jsonl')
  }

  async start() {
    this.#folder = await mkdtemp(join(tmpdir(), 'log-gate-'))
    return { label: 'Simulated door', file: this.file }
  }

  async stop() {
    if (this.#folder) await rm(this.#folder, { recursive: true, force: true })
    this.#folder = null
  }

  async records(): Promise<LogGateRecord[]> {
    const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return ''
      throw error
    })
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as LogGateRecord)
  }

  /** The openings recorded, oldest first. */
  async opens() {
    const records = await this.records()
    return records.filter((record) => record.event === 'open')
  }

  /** Open while the last opening since the last start has not run out. */
  async observedGate(): Promise<GateState['position']> {
    const records = await this.records()
    const last = records.at(-1)
    if (last?.event !== 'open' || !last.closesAt) return 'closed'
    return Date.parse(last.closesAt) > Date.now() ? 'open' : 'closed'
  }
}
