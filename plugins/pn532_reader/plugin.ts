import { definePlugin, vine } from '#plugin-sdk'
import { Pn532ReaderDriver } from './pn532_reader_driver.js'

export default definePlugin({
  id: 'pn532-reader',
  kind: 'reader',
  version: '1.0.0',
  description: 'An NXP PN532 NFC reader on a UART (HSU): ISO 14443 type A card UIDs.',
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    port: vine.string().trim().minLength(1).maxLength(4096),
    baudRate: vine.enum([9600, 19_200, 38_400, 57_600, 115_200, 230_400] as const).optional(),
    pollMs: vine.number().withoutDecimals().range([20, 5000]).optional(),
    timeoutMs: vine.number().withoutDecimals().range([20, 5000]).optional(),
  }),
  create: (context) => new Pn532ReaderDriver(context),
})
