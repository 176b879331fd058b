import { definePlugin, modbusUnitFields, vine } from '#plugin-sdk'
import { inputDefaults, ModbusGateDriver } from './modbus_gate_driver.js'

const address = () => vine.number().withoutDecimals().range([0, 65_535])
const word = () => vine.number().withoutDecimals().range([0, 65_535])
const inputTable = () =>
  vine.enum(['discrete_inputs', 'coils', 'input_registers', 'holding_registers'] as const)

/** A whole number in `range`, optional, with the driver's default (which the Settings form shows). */
const setting = (range: [number, number], fallback: number) =>
  vine.number().withoutDecimals().range(range).optional().meta({ default: fallback })

/** A wired input: where to read it, and the value that means "active" (door open, button pressed). */
const input = () =>
  vine.object({
    table: inputTable(),
    address: address(),
    activeWhen: word().optional(),
  })

export default definePlugin({
  id: 'modbus-gate',
  kind: 'gate',
  version: '1.0.0',
  description:
    'A door lock, turnstile or barrier on a Modbus relay board or door controller (RS-485 or TCP), with its door contact and exit button.',
  config: vine.object({
    label: vine.string().trim().minLength(1).maxLength(80).optional(),
    ...modbusUnitFields(),
    open: vine.union([
      vine.union.if(
        (value) => vine.helpers.isObject(value) && 'coil' in value,
        vine.object({ coil: address() })
      ),
      vine.union.else(
        vine.object({
          register: address(),
          value: word(),
          durationRegister: address().optional(),
          durationInValue: vine.boolean({ strict: true }).optional(),
          durationUnitMs: vine.number().withoutDecimals().range([1, 60_000]).optional(),
          closeValue: word().optional(),
        })
      ),
    ]),
    inputs: vine
      .object({
        door: input().optional(),
        exitButton: input().optional(),
        pollMs: setting([20, 5000], inputDefaults.pollMs),
        heldOpenSeconds: setting([1, 3600], inputDefaults.heldOpenSeconds),
        graceSeconds: setting([0, 60], inputDefaults.graceSeconds),
        exitOpenSeconds: setting([0, 600], inputDefaults.exitOpenSeconds),
        faultAfter: setting([1, 100], inputDefaults.faultAfter),
      })
      .optional(),
  }),
  create: (context) => new ModbusGateDriver(context),
})
