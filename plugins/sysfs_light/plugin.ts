import { definePlugin, vine } from '#plugin-sdk'
import { SysfsLightDriver } from './sysfs_light_driver.js'

export default definePlugin({
  id: 'sysfs-light',
  kind: 'light',
  version: '1.0.0',
  description:
    'A fill light or indicator on a Linux LED (/sys/class/leds/…, dimmable) or GPIO pin (/sys/class/gpio/gpioN).',
  capabilities: ['level'],
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    path: vine.string().trim().minLength(1).maxLength(4096),
    activeLow: vine.boolean({ strict: true }).optional(),
  }),
  create: (context) => new SysfsLightDriver(context),
})
