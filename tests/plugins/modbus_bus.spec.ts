import { test } from '@japa/runner'
import {
  ModbusCrcError,
  ModbusExceptionError,
  ModbusPortError,
  ModbusTimeoutError,
  ModbusUnit,
  PluginError,
} from '#plugin-sdk'
import { ModbusPeer } from '#tests/helpers/modbus_peer'

/**
 * The Modbus bus of the plugin SDK against pymodbus, over a socat pty pair
 * (RTU) and loopback TCP: one queue per bus, timeouts, retries, CRC and
 * exception errors, and a port that goes away and comes back.
 */
test.group('Modbus bus over RTU', (group) => {
  let peer: ModbusPeer
  const units: ModbusUnit[] = []
  const unit = (unitId: number, options: { timeoutMs?: number; retries?: number } = {}) => {
    const opened = new ModbusUnit({
      bus: peer.bus,
      unitId,
      timeoutMs: 1000,
      retries: 1,
      ...options,
    })
    units.push(opened)
    return opened
  }

  group.each.setup(async () => {
    peer = await ModbusPeer.rtu({ units: [1, 2] })
    return async () => {
      await Promise.all(units.splice(0).map((opened) => opened.release()))
      await peer.stop()
    }
  })

  test('writes coils and registers and reads them back', async ({ assert }) => {
    const board = unit(1)
    await board.writeCoil(2, true)
    await board.writeRegister(5, 0xbeef)
    await board.writeRegisters(10, [1, 2, 3])
    assert.deepEqual(await board.readBits('coils', 0, 4), [false, false, true, false])
    assert.deepEqual(await board.readRegisters('holding_registers', 4, 2), [0, 0xbeef])
    assert.deepEqual(await board.readRegisters('holding_registers', 10, 3), [1, 2, 3])

    await peer.set('di', 1, 7, 1)
    await peer.set('ir', 1, 3, 4321)
    assert.deepEqual(await board.readBits('discrete_inputs', 6, 3), [false, true, false])
    assert.deepEqual(await board.readRegisters('input_registers', 3, 1), [4321])
    assert.deepEqual(
      peer.writesTo('co', 1, 2).map((write) => write.values),
      [[1]]
    )
  })

  test('two boards on one bus, asked at once, each get their own requests', async ({ assert }) => {
    const first = unit(1)
    const second = unit(2)
    assert.strictEqual(first.bus, second.bus, 'one queue for the bus')

    const writes = Array.from({ length: 40 }, (_, index) => {
      const board = index % 2 === 0 ? first : second
      return board.writeRegister(index % 8, 1000 * board.unitId + index)
    })
    await Promise.all(writes)

    const [mine, theirs] = await Promise.all([
      first.readRegisters('holding_registers', 0, 8),
      second.readRegisters('holding_registers', 0, 8),
    ])
    assert.deepEqual(mine, [1032, 0, 1034, 0, 1036, 0, 1038, 0])
    assert.deepEqual(theirs, [0, 2033, 0, 2035, 0, 2037, 0, 2039])
    assert.lengthOf(peer.writes, 40)
    for (const write of peer.writes) {
      assert.equal(Math.floor(write.values[0] / 1000), write.unit)
    }
    assert.deepEqual(
      peer.writes.map((write) => write.values[0] % 1000),
      Array.from({ length: 40 }, (_, index) => index),
      'in the order asked'
    )
  })

  test('a board that stops answering times out after its retries; the others are served', async ({
    assert,
  }) => {
    const silent = unit(1, { timeoutMs: 150, retries: 2 })
    const other = unit(2)
    await silent.writeCoil(0, false)
    await peer.silence([1])

    const started = performance.now()
    const [failure, answered] = await Promise.all([
      silent.readBits('coils', 0, 1).catch((error) => error),
      other.readBits('coils', 0, 1),
    ])
    const waited = performance.now() - started
    assert.instanceOf(failure, ModbusTimeoutError)
    assert.include(failure.message, 'did not answer within 150 ms (3 attempts)')
    assert.equal(failure.code, 'E_MODBUS_TIMEOUT')
    assert.deepEqual(answered, [false])
    assert.isAbove(waited, 3 * 150 - 10)
    assert.isBelow(waited, 3 * 150 + 400)
    assert.equal(silent.status.timeouts, 3)
    assert.equal(silent.status.failuresInARow, 1)

    await peer.silence([])
    assert.deepEqual(await silent.readBits('coils', 0, 1), [false])
    assert.equal(silent.status.failuresInARow, 0)
  })

  test('a damaged answer is a CRC error, retried; the bus is not stuck', async ({ assert }) => {
    const once = unit(1, { retries: 0 })
    await peer.corrupt(1)
    const failure = await once.readBits('coils', 0, 1).catch((error) => error)
    assert.instanceOf(failure, ModbusCrcError)
    assert.match(
      failure.message,
      /^CRC error in the answer of unit 1 on .+ \(01010100[0-9a-f]{4}\)$/
    )
    assert.deepEqual(await once.readBits('coils', 0, 1), [false], 'the next request is answered')

    const retried = unit(2, { retries: 1 })
    await peer.corrupt(1)
    await retried.writeCoil(1, true)
    assert.equal(retried.status.crcErrors, 1)
    assert.equal(retried.status.answered, 1)
  })

  test('an exception is the board saying no, not retried', async ({ assert }) => {
    const board = unit(1, { retries: 3 })
    const failure = await board.readRegisters('holding_registers', 100, 1).catch((error) => error)
    assert.instanceOf(failure, ModbusExceptionError)
    assert.equal(failure.exceptionCode, 2)
    assert.include(failure.message, 'exception 2 (illegal data address)')
    assert.equal(board.status.exceptions, 1)
    assert.equal(board.status.requests, 1)
  })

  test('a port that disappears fails requests until it is back', async ({ assert }) => {
    const board = unit(1)
    await board.writeCoil(0, true)
    await peer.unplug()

    const failure = await board.readBits('coils', 0, 1).catch((error) => error)
    assert.instanceOf(failure, ModbusPortError)
    const again = await board.readBits('coils', 0, 1).catch((error) => error)
    assert.instanceOf(again, ModbusPortError)
    assert.include(again.message, 'Cannot open')

    await peer.plug()
    assert.deepEqual(await board.readBits('coils', 0, 1), [false], 'a fresh slave answers')
  })

  test('boards on one port must agree on its settings', async ({ assert }) => {
    unit(1)
    assert.throws(
      () => new ModbusUnit({ bus: { ...peer.bus, baudRate: 19_200 }, unitId: 2 }),
      /already in use with other settings/
    )
    const error = (() => {
      try {
        new ModbusUnit({ bus: { ...peer.bus, parity: 'even' }, unitId: 2 })
      } catch (caught) {
        return caught
      }
    })()
    assert.instanceOf(error, PluginError)
  })
})

test.group('Modbus bus over TCP', (group) => {
  let peer: ModbusPeer
  const units: ModbusUnit[] = []

  group.each.setup(async () => {
    peer = await ModbusPeer.tcp({ units: [1, 2] })
    return async () => {
      await Promise.all(units.splice(0).map((opened) => opened.release()))
      await peer.stop()
    }
  })

  test('serves two units, times out a silent one, reconnects to a restarted server', async ({
    assert,
  }) => {
    const first = new ModbusUnit({ bus: peer.bus, unitId: 1, timeoutMs: 1000, retries: 1 })
    const second = new ModbusUnit({ bus: peer.bus, unitId: 2, timeoutMs: 300, retries: 0 })
    units.push(first, second)

    await Promise.all([first.writeCoil(3, true), second.writeRegister(1, 77)])
    assert.deepEqual(await first.readBits('coils', 3, 1), [true])
    assert.deepEqual(await second.readRegisters('holding_registers', 1, 1), [77])

    await peer.silence([2])
    const failure = await second.readBits('coils', 0, 1).catch((error) => error)
    assert.instanceOf(failure, ModbusTimeoutError)
    assert.deepEqual(await first.readBits('coils', 3, 1), [true], 'the late answer is not taken')

    await peer.unplug()
    const gone = await first.readBits('coils', 3, 1).catch((error) => error)
    assert.instanceOf(gone, ModbusPortError)
    await peer.plug()
    assert.deepEqual(await first.readBits('coils', 3, 1), [false], 'a fresh server answers')
  })
})
