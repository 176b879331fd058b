import { definePlugin, vine } from '#plugin-sdk'
import { LogGateDriver } from './log_gate_driver.js'

export default definePlugin({
  id: 'log-gate',
  kind: 'gate',
  version: '1.0.0',
  description: 'A gate with no hardware that records every opening.',
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    file: vine.string().trim().minLength(1).maxLength(4096).optional(),
  }),
  create: (context) => new LogGateDriver(context),
})
