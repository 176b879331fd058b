import { ModbusFrameError } from '#plugin-host/modbus/errors'

/**
 * One Modbus request as its PDU (function code and data, without the unit
 * id and the RTU CRC or TCP header), and how to read the answer's PDU. A
 * reader throws `ModbusFrameError` when the answer does not fit the
 * request: a write answered with another address or value was not done
 * as asked.
 */
export interface ModbusRequest<Result> {
  functionCode: number
  pdu: Buffer
  /** What the request does, for logs and errors: "write coil 3 on". */
  description: string
  parse(answer: Buffer): Result
}

export type BitTable = 'coils' | 'discrete_inputs'
export type RegisterTable = 'holding_registers' | 'input_registers'
export type ModbusTable = BitTable | RegisterTable

const functionCodes = {
  coils: 1,
  discrete_inputs: 2,
  holding_registers: 3,
  input_registers: 4,
} as const

function checkAddress(address: number, count = 1) {
  if (!Number.isInteger(address) || address < 0 || address + count > 0x10000) {
    throw new RangeError(`Modbus address ${address} (+${count}) is outside 0..65535`)
  }
}

function checkLength(answer: Buffer, length: number, description: string) {
  if (answer.length !== length) {
    throw new ModbusFrameError(
      `The answer to "${description}" has ${answer.length} bytes, not ${length}`
    )
  }
}

function pdu(functionCode: number, ...words: number[]) {
  const buffer = Buffer.alloc(1 + words.length * 2)
  buffer[0] = functionCode
  words.forEach((word, index) => buffer.writeUInt16BE(word, 1 + index * 2))
  return buffer
}

/** Function 1 (coils) or 2 (discrete inputs): `count` bits from `address`. */
export function readBits(
  table: BitTable,
  address: number,
  count: number
): ModbusRequest<boolean[]> {
  checkAddress(address, count)
  if (!Number.isInteger(count) || count < 1 || count > 2000) {
    throw new RangeError(`A Modbus bit read takes 1..2000 bits, not ${count}`)
  }
  const functionCode = functionCodes[table]
  const description = `read ${count} ${table.replace('_', ' ')} from ${address}`
  const bytes = Math.ceil(count / 8)
  return {
    functionCode,
    pdu: pdu(functionCode, address, count),
    description,
    parse(answer) {
      checkLength(answer, 2 + bytes, description)
      if (answer[1] !== bytes) {
        throw new ModbusFrameError(`The answer to "${description}" counts ${answer[1]} bytes`)
      }
      return Array.from({ length: count }, (_, bit) =>
        Boolean(answer[2 + (bit >> 3)] & (1 << (bit & 7)))
      )
    },
  }
}

/** Function 3 (holding) or 4 (input registers): `count` 16-bit words from `address`. */
export function readRegisters(
  table: RegisterTable,
  address: number,
  count: number
): ModbusRequest<number[]> {
  checkAddress(address, count)
  if (!Number.isInteger(count) || count < 1 || count > 125) {
    throw new RangeError(`A Modbus register read takes 1..125 registers, not ${count}`)
  }
  const functionCode = functionCodes[table]
  const description = `read ${count} ${table.replace('_', ' ')} from ${address}`
  return {
    functionCode,
    pdu: pdu(functionCode, address, count),
    description,
    parse(answer) {
      checkLength(answer, 2 + count * 2, description)
      if (answer[1] !== count * 2) {
        throw new ModbusFrameError(`The answer to "${description}" counts ${answer[1]} bytes`)
      }
      return Array.from({ length: count }, (_, index) => answer.readUInt16BE(2 + index * 2))
    },
  }
}

/** An answer that must repeat the request, as writes of one coil or register are answered. */
function echoed(functionCode: number, request: Buffer, description: string): ModbusRequest<void> {
  return {
    functionCode,
    pdu: request,
    description,
    parse(answer) {
      checkLength(answer, request.length, description)
      if (!answer.equals(request)) {
        throw new ModbusFrameError(
          `The answer to "${description}" does not repeat it (${answer.toString('hex')})`
        )
      }
    },
  }
}

/** Function 5: one coil on or off. */
export function writeCoil(address: number, on: boolean) {
  checkAddress(address)
  return echoed(
    5,
    pdu(5, address, on ? 0xff00 : 0x0000),
    `write coil ${address} ${on ? 'on' : 'off'}`
  )
}

/** Function 6: one holding register. */
export function writeRegister(address: number, value: number) {
  checkAddress(address)
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`A Modbus register holds 0..65535, not ${value}`)
  }
  return echoed(6, pdu(6, address, value), `write register ${address} = ${value}`)
}

/** Function 16: consecutive holding registers from `address`. */
export function writeRegisters(address: number, values: number[]): ModbusRequest<void> {
  checkAddress(address, values.length)
  if (values.length < 1 || values.length > 123) {
    throw new RangeError(`A Modbus register write takes 1..123 registers, not ${values.length}`)
  }
  for (const value of values) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`A Modbus register holds 0..65535, not ${value}`)
    }
  }
  const request = Buffer.alloc(6 + values.length * 2)
  request[0] = 16
  request.writeUInt16BE(address, 1)
  request.writeUInt16BE(values.length, 3)
  request[5] = values.length * 2
  values.forEach((value, index) => request.writeUInt16BE(value, 6 + index * 2))
  const description = `write registers ${address}..${address + values.length - 1} = ${values.join(', ')}`
  return {
    functionCode: 16,
    pdu: request,
    description,
    parse(answer) {
      checkLength(answer, 5, description)
      if (!answer.equals(request.subarray(0, 5))) {
        throw new ModbusFrameError(`The answer to "${description}" names other registers`)
      }
    },
  }
}

/**
 * The length of the RTU answer frame (unit id to CRC) whose first bytes
 * are `head`, or null while too few have arrived to tell.
 */
export function rtuAnswerLength(head: Uint8Array): number | null {
  if (head.length < 2) return null
  const functionCode = head[1]
  if (functionCode & 0x80) return 5
  if (functionCode >= 1 && functionCode <= 4) return head.length < 3 ? null : 5 + head[2]
  if (functionCode === 5 || functionCode === 6 || functionCode === 15 || functionCode === 16) {
    return 8
  }
  return 0
}
