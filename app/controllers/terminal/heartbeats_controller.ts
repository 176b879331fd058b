import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { AgentHeartbeatService } from '#services/agent_heartbeat_service'
import { DeviceGate } from '#services/terminal/device_gate'
import { readTerminalCall, readTerminalFields } from '#validators/terminal_request'
import { heartbeatRequestValidator } from '#validators/terminal_agent_validator'

/** /faces/api/heartbeat: a terminal agent's state, answered with the commands waiting for it. */
@inject()
export default class HeartbeatsController {
  constructor(
    private gate: DeviceGate,
    private heartbeats: AgentHeartbeatService
  ) {}

  async store({ request }: HttpContext) {
    const { state, ...claim } = await readTerminalFields(request, heartbeatRequestValidator)
    const admission = await this.gate.admit(claim, readTerminalCall(request))
    if (!admission.ok) return admission
    return this.heartbeats.receive(admission.device, state)
  }
}
