import { definePlugin, vine } from '#plugin-sdk'
import { LogLightDriver } from './log_light_driver.js'

export default definePlugin({
  id: 'log-light',
  kind: 'light',
  version: '1.0.0',
  description: 'A light with no hardware that records every command it is given.',
  capabilities: ['level', 'color'],
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    file: vine.string().trim().minLength(1).maxLength(4096).optional(),
  }),
  create: (context) => new LogLightDriver(context),
})
