import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LightSimulator, LightState } from '#plugin-sdk'

/**
 * An LED class device as sysfs shows it, in a temporary folder:
 * `brightness` and `max_brightness` (255). A dark LED shows no level, so
 * the peer reports the level it last lit at, which is what the driver
 * keeps for switching on again.
 */
export default class SysfsLightSimulator implements LightSimulator {
  readonly invalidConfigs = [{}, { path: '' }, { path: 42 }, { path: '/x', activeLow: 'yes' }]

  #folder: string | null = null
  #lastLevel = 0

  get folder() {
    if (!this.#folder) throw new Error('The sysfs light simulator is not started')
    return this.#folder
  }

  async start() {
    this.#folder = await mkdtemp(join(tmpdir(), 'sysfs-led-'))
    await writeFile(join(this.#folder, 'max_brightness'), '255\n')
    await writeFile(join(this.#folder, 'brightness'), '0\n')
    this.#lastLevel = 0
    return { label: 'Simulated LED', path: this.#folder }
  }

  async stop() {
    if (this.#folder) await rm(this.#folder, { recursive: true, force: true })
    this.#folder = null
  }

  async brightness() {
    return Number.parseInt(await readFile(join(this.folder, 'brightness'), 'utf8'), 10)
  }

  async observedLight(): Promise<LightState> {
    const brightness = await this.brightness()
    if (brightness > 0) this.#lastLevel = Math.round((brightness * 100) / 255)
    return { on: brightness > 0, level: this.#lastLevel, color: null }
  }
}
