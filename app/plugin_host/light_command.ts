import type { LightCommand, LightState } from '#plugin-host/contracts'
import { PluginCommandError } from '#plugin-host/errors'

const colorPattern = /^#[0-9a-f]{6}$/i

export const lightOff: LightState = Object.freeze({ on: false, level: 0, color: null })

/**
 * The state a light should show after `command`, checked the same way for
 * every light driver: a level is a whole percentage, a colour is `#rrggbb`,
 * and switching on without a level restores the last one (full if none).
 */
export function applyLightCommand(current: LightState, command: LightCommand): LightState {
  if (typeof command?.on !== 'boolean') {
    throw new PluginCommandError('A light command needs "on" (true or false)')
  }
  const { level, color } = command
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 100)) {
    throw new PluginCommandError(`Light level must be a whole number from 0 to 100, not ${level}`)
  }
  if (color !== undefined && !colorPattern.test(color)) {
    throw new PluginCommandError(`Light colour must look like #ffaa00, not "${color}"`)
  }
  return {
    on: command.on,
    level: level ?? (command.on && current.level === 0 ? 100 : current.level),
    color: color?.toLowerCase() ?? current.color,
  }
}
