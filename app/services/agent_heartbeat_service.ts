import { inject } from '@adonisjs/core'
import { errors as vineErrors } from '@vinejs/vine'
import type Device from '#models/device'
import { DeviceCommands } from '#services/device_commands'
import { DeviceHeartbeats } from '#services/device_heartbeats'
import type { TerminalResult } from '#services/terminal/protocol'
import type { AgentCommand } from '#terminal-client/agent_contracts'
import { agentHeartbeatValidator } from '#validators/terminal_agent_validator'

export type HeartbeatAnswer = { commands: AgentCommand[]; serverTime: number }

/**
 * /faces/api/heartbeat: an approved terminal agent reports its state
 * (kept as its latest, for the device pages) and the commands it carried
 * out, and receives the commands that wait for it.
 */
@inject()
export class AgentHeartbeatService {
  constructor(
    private heartbeats: DeviceHeartbeats,
    private commands: DeviceCommands
  ) {}

  async receive(device: Device, state: unknown): Promise<TerminalResult<HeartbeatAnswer>> {
    const parsed = await parseState(state)
    if (!parsed.ok)
      return { ok: false, error: { type: 'invalid_parameter', message: parsed.message } }
    const { commandsDone, ...kept } = parsed.heartbeat
    await this.commands.done(device.id, commandsDone)
    await this.heartbeats.record(device.id, kept)
    const { commands } = await this.commands.take(device.id)
    return {
      ok: true,
      data: { commands, serverTime: Math.floor(Date.now() / 1000) },
      message: commands.length ? `${commands.length} command(s) to carry out` : 'recorded',
    }
  }
}

/** The state as a JSON object, or its JSON text (a form field), checked field by field. */
async function parseState(state: unknown) {
  let value = state
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      return {
        ok: false,
        message: 'state must be a JSON object (AgentHeartbeat, see /docs)',
      } as const
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      message: 'state must be a JSON object (AgentHeartbeat, see /docs)',
    } as const
  }
  try {
    return { ok: true, heartbeat: await agentHeartbeatValidator.validate(value) } as const
  } catch (error) {
    if (!(error instanceof vineErrors.E_VALIDATION_ERROR)) throw error
    const messages = error.messages as { field: string; message: string }[]
    return {
      ok: false,
      message: messages.map(({ field, message }) => `state.${field}: ${message}`).join('; '),
    } as const
  }
}
