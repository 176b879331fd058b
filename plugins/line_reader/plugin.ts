import { definePlugin, vine } from '#plugin-sdk'
import { LineReaderDriver, lineReaderDefaults } from './line_reader_driver.js'

export default definePlugin({
  id: 'line-reader',
  kind: 'reader',
  version: '1.0.0',
  description:
    'A card reader that prints each card as a line on a serial port (RS-485 or USB): hex or decimal UIDs, or raw Wiegand-26.',
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    port: vine.string().trim().minLength(1).maxLength(4096),
    baudRate: vine
      .enum([1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200] as const)
      .optional()
      .meta({ default: lineReaderDefaults.baudRate }),
    parity: vine.enum(['none', 'even', 'odd'] as const).optional(),
    dataBits: vine.enum([7, 8] as const).optional(),
    stopBits: vine.enum([1, 2] as const).optional(),
    format: vine
      .enum(['hex', 'decimal', 'wiegand26'] as const)
      .optional()
      .meta({ default: lineReaderDefaults.format }),
    byteOrder: vine
      .enum(['msb', 'lsb'] as const)
      .optional()
      .meta({ default: lineReaderDefaults.byteOrder }),
    repeatMs: vine
      .number()
      .withoutDecimals()
      .range([0, 60_000])
      .optional()
      .meta({ default: lineReaderDefaults.repeatMs }),
  }),
  create: (context) => new LineReaderDriver(context),
})
