import { PluginError } from '#plugin-host/errors'

/**
 * What went wrong on a Modbus bus, by kind, so that a driver can tell a
 * board that said no (an exception) from one that did not answer, an
 * answer damaged on the wire, and a port that is gone.
 */
export class ModbusError extends PluginError {}

/** The unit did not answer within the request's timeout, retries included. */
export class ModbusTimeoutError extends ModbusError {
  constructor(
    readonly bus: string,
    readonly unitId: number,
    readonly timeoutMs: number,
    readonly attempts: number
  ) {
    super(
      `Unit ${unitId} on ${bus} did not answer within ${timeoutMs} ms (${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})`,
      'E_MODBUS_TIMEOUT'
    )
  }
}

/** An answer arrived whose CRC does not match: noise, a collision or a wiring fault. */
export class ModbusCrcError extends ModbusError {
  constructor(
    readonly bus: string,
    readonly unitId: number,
    readonly frame: Uint8Array
  ) {
    super(
      `CRC error in the answer of unit ${unitId} on ${bus} (${Buffer.from(frame).toString('hex')})`,
      'E_MODBUS_CRC'
    )
  }
}

/** An answer that is not the answer to the request sent (wrong unit, function or echo). */
export class ModbusFrameError extends ModbusError {
  constructor(message: string) {
    super(message, 'E_MODBUS_FRAME')
  }
}

const exceptionNames: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
}

/**
 * The unit answered with a Modbus exception: it heard the request and
 * refused it (an address it does not have, a value it does not take).
 */
export class ModbusExceptionError extends ModbusError {
  constructor(
    readonly bus: string,
    readonly unitId: number,
    readonly functionCode: number,
    readonly exceptionCode: number
  ) {
    const name = exceptionNames[exceptionCode] ?? 'unknown exception'
    super(
      `Unit ${unitId} on ${bus} refused function ${functionCode}: exception ${exceptionCode} (${name})`,
      'E_MODBUS_EXCEPTION'
    )
  }
}

/** The port or connection cannot be opened, or went away while in use. */
export class ModbusPortError extends ModbusError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'E_MODBUS_PORT', options)
  }
}

/** More requests wait for the bus than it can serve; this one was not sent. */
export class ModbusBusyError extends ModbusError {
  constructor(bus: string, waiting: number) {
    super(`${bus} has ${waiting} requests waiting; this one was not sent`, 'E_MODBUS_BUSY')
  }
}
