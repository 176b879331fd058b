import vine from '@vinejs/vine'
import { requestDefaults } from '#plugin-host/modbus/unit'

const baudRates = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200] as const

/**
 * The `bus` of a Modbus instance's config: a serial port with its line
 * settings (RTU), or a TCP endpoint. Left-out settings take the defaults
 * of `ModbusUnit` (9600 8N1, port 502).
 */
export const modbusBusSchema = () =>
  vine.union([
    vine.union.if(
      (value) => vine.helpers.isObject(value) && 'host' in value,
      vine.object({
        host: vine.string().trim().minLength(1).maxLength(253),
        port: vine.number().withoutDecimals().range([1, 65_535]).optional(),
      })
    ),
    vine.union.else(
      vine.object({
        serial: vine.string().trim().minLength(1).maxLength(4096),
        baudRate: vine.enum(baudRates).optional(),
        parity: vine.enum(['none', 'even', 'odd'] as const).optional(),
        dataBits: vine.enum([7, 8] as const).optional(),
        stopBits: vine.enum([1, 2] as const).optional(),
      })
    ),
  ])

/**
 * A board on that bus: its unit id, and the timeout and retries of each
 * request. The `default` metas are what the Settings form starts with.
 */
export const modbusUnitFields = () => ({
  bus: modbusBusSchema(),
  unitId: vine.number().withoutDecimals().range([1, 247]).meta({ default: 1 }),
  timeoutMs: vine
    .number()
    .withoutDecimals()
    .range([20, 10_000])
    .optional()
    .meta({ default: requestDefaults.timeoutMs }),
  retries: vine
    .number()
    .withoutDecimals()
    .range([0, 5])
    .optional()
    .meta({ default: requestDefaults.retries }),
})
