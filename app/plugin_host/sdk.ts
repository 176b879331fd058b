/**
 * The plugin SDK (`#plugin-sdk`): the only module a plugin imports from
 * the app. It re-exports VineJS so that config schemas need nothing else.
 */
export { default as vine } from '@vinejs/vine'
export * from '#plugin-host/contracts'
export * from '#plugin-host/door_events'
export {
  definePlugin,
  type ConfigResult,
  type Plugin,
  type PluginDefinition,
  type PluginManifest,
} from '#plugin-host/define_plugin'
export * from '#plugin-host/errors'
export { applyLightCommand, lightOff } from '#plugin-host/light_command'
export {
  createPluginHarness,
  decodeImage,
  type LogRecord,
  type PluginHarness,
} from '#plugin-host/test_harness'
export { createPtyPair, type PtyPair } from '#plugin-host/pty_pair'
export { CardFeed, normalizeCardUid } from '#plugin-host/card_feed'
export { SerialLine, type SerialLineSettings } from '#plugin-host/serial_line'
export { modbusBusSchema, modbusUnitFields } from '#plugin-host/modbus/config'
export { modbusCrc } from '#plugin-host/modbus/crc'
export { SimulatedModbusBoard, type SimulatedWrite } from '#plugin-host/modbus/simulated_board'
export * from '#plugin-host/modbus/errors'
export type { ModbusRequestOptions, ModbusUnitStatus } from '#plugin-host/modbus/bus'
export {
  readBits,
  readRegisters,
  writeCoil,
  writeRegister,
  writeRegisters,
  type BitTable,
  type ModbusRequest,
  type ModbusTable,
  type RegisterTable,
} from '#plugin-host/modbus/pdu'
export {
  ModbusUnit,
  requestDefaults as modbusRequestDefaults,
  serialDefaults,
  type ModbusBusSettings,
  type ModbusUnitSettings,
} from '#plugin-host/modbus/unit'
