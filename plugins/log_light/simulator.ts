import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LightSimulator, LightState } from '#plugin-sdk'
import type { LogLightRecord } from './log_light_driver.js'

/**
 * The log light's peer is the file it writes: the simulator gives it a
 * fresh one in a temporary folder and reads back what it recorded, the way
 * someone watching a real light would see it change.
 */
export default class LogLightSimulator implements LightSimulator {
  readonly invalidConfigs = [
    { file: '' },
    { file: 42 },
    { label: '   ' },
    { label: 'x'.repeat(81) },
    { label: ['Lobby'] },
  ]

  #folder: string | null = null

  get file() {
    if (!this.#folder) throw new Error('The log light simulator is not started')
    return join(this.#folder, 'light.jsonl')
  }

  async start() {
    this.#folder = await mkdtemp(join(tmpdir(), 'log-light-'))
    return { label: 'Simulated light', file: this.file }
  }

  async stop() {
    if (this.#folder) await rm(this.#folder, { recursive: true, force: true })
    this.#folder = null
  }

  async records(): Promise<LogLightRecord[]> {
    const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return ''
      throw error
    })
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as LogLightRecord)
  }

  async observedLight(): Promise<LightState | null> {
    const records = await this.records()
    const last = records.at(-1)
    return last ? { on: last.on, level: last.level, color: last.color } : null
  }
}
