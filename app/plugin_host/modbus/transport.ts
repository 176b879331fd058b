/**
 * One Modbus link: a serial port (RTU) or a TCP connection. A transport
 * carries one request at a time (the bus queues them), opens itself on
 * the first request and again after the port or connection went away.
 */
export interface ModbusTransport {
  /** The port path or `host:port`, for logs and errors. */
  readonly name: string
  /**
   * Sends `pdu` to `unitId` and resolves with the answer's PDU, which may
   * be an exception (function code | 0x80). Rejects with
   * `ModbusTimeoutError`, `ModbusCrcError`, `ModbusFrameError` or
   * `ModbusPortError`.
   */
  exchange(unitId: number, pdu: Buffer, timeoutMs: number): Promise<Buffer>
  close(): Promise<void>
}
