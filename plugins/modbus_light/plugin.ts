import { definePlugin, modbusUnitFields, vine } from '#plugin-sdk'
import { ModbusLightDriver } from './modbus_light_driver.js'

const address = () => vine.number().withoutDecimals().range([0, 65_535])

export default definePlugin({
  id: 'modbus-light',
  kind: 'light',
  version: '1.0.0',
  description:
    'A fill light or indicator on a Modbus relay (coil) and/or dimmer (holding register), over RS-485 or TCP.',
  capabilities: ['level'],
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    ...modbusUnitFields(),
    coil: address().optional(),
    levelRegister: address().optional().requiredIfMissing('coil'),
    levelMax: vine.number().withoutDecimals().range([1, 65_535]).optional(),
  }),
  create: (context) => new ModbusLightDriver(context),
})
