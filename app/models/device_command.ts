import { DeviceCommandSchema } from '#database/schema'
import type { AgentCommand } from '#terminal-client/agent_contracts'

export const deviceCommandTypes = [
  'open_door',
  'sync_now',
  'restart',
  'enrol',
] as const satisfies readonly AgentCommand['type'][]
export type DeviceCommandType = (typeof deviceCommandTypes)[number]

/** A command an operator gave a terminal agent (see DeviceCommands). */
export default class DeviceCommand extends DeviceCommandSchema {
  static table = 'device_commands'

  declare type: DeviceCommandType
}
