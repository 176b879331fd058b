import { access, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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

export interface SysfsLightConfig {
  label?: string
  /** An LED class folder (`/sys/class/leds/<name>`) or an exported GPIO (`/sys/class/gpio/gpio17`). */
  path: string
  /** A GPIO that lights the lamp at 0 (a low-side driver). */
  activeLow?: boolean
}

type Output = { kind: 'led'; maxBrightness: number } | { kind: 'gpio' }

/**
 * A light on the machine's own pins, through the kernel's sysfs files:
 * an LED class device (`brightness`, 0 to `max_brightness`: dimmable) or
 * a GPIO set as an output (`value`, 0 or 1: on and off, the level kept
 * for the next light that can use it). Which it is follows from the files
 * in `path`. The account running the server needs write access to them
 * (a udev rule, or the gpio group).
 */
export class SysfsLightDriver implements LightDriver {
  #output: Output | null = null
  #state: LightState = lightOff

  constructor(private context: PluginContext<SysfsLightConfig>) {}

  async start() {
    const output = await this.#detect()
    this.#output = output
    try {
      await this.#apply(output, lightOff)
    } catch (error) {
      this.#output = null
      throw error
    }
    this.#state = lightOff
  }

  async stop() {
    this.#output = null
  }

  async health(): Promise<PluginHealth> {
    const output = this.#output
    if (!output) return { status: 'error', message: 'Not started' }
    const file = this.#file(output)
    try {
      const text = await readFile(file, 'utf8')
      const shown = text.trim()
      return {
        status: 'ok',
        message: `${output.kind === 'led' ? 'LED' : 'GPIO'} at ${this.context.config.path}`,
        details: { ...this.#state, [output.kind === 'led' ? 'brightness' : 'value']: shown },
      }
    } catch (error) {
      return { status: 'error', message: `Cannot read ${file}: ${(error as Error).message}` }
    }
  }

  async set(command: LightCommand) {
    const output = this.#output
    if (!output) throw new PluginError('The sysfs light is not started', 'E_PLUGIN_STOPPED')
    const next = applyLightCommand(this.#state, command)
    await this.#apply(output, next)
    this.#state = next
  }

  async state() {
    return { ...this.#state }
  }

  async #detect(): Promise<Output> {
    const { path } = this.context.config
    const has = (name: string) =>
      access(join(path, name)).then(
        () => true,
        () => false
      )
    if (await has('brightness')) {
      const max = Number.parseInt(await readFile(join(path, 'max_brightness'), 'utf8'), 10)
      if (!Number.isInteger(max) || max < 1) {
        throw new PluginError(`${path}/max_brightness does not hold a brightness`, 'E_SYSFS_LIGHT')
      }
      return { kind: 'led', maxBrightness: max }
    }
    if (await has('value')) {
      if (await has('direction')) await writeFile(join(path, 'direction'), 'out')
      return { kind: 'gpio' }
    }
    throw new PluginError(
      `${path} is neither an LED (no brightness file) nor an exported GPIO (no value file)`,
      'E_SYSFS_LIGHT'
    )
  }

  #file(output: Output) {
    return join(this.context.config.path, output.kind === 'led' ? 'brightness' : 'value')
  }

  async #apply(output: Output, state: LightState) {
    let value: number
    if (output.kind === 'led') {
      value = state.on ? Math.max(1, Math.round((state.level * output.maxBrightness) / 100)) : 0
    } else {
      value = Number(state.on !== Boolean(this.context.config.activeLow))
    }
    await writeFile(this.#file(output), `${value}\n`)
  }
}
