import { test } from '@japa/runner'
import { createPluginHarness, PluginCommandError, type PluginHarness } from '#plugin-sdk'
import modbusGate from '../plugin.js'
import ModbusGateSimulator, { simulatedWiring } from '../simulator.js'

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An instance's health status, as the supervisor reads it. */
async function statusOf(harness: { health(): Promise<{ status: string }> }) {
  const health = await harness.health()
  return health.status
}

async function until(check: () => boolean, what: string, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(10)
  }
}

/**
 * The Modbus gate against its simulator: a relay board with a door
 * contact and an exit button behind Modbus TCP on loopback.
 */
test.group('Modbus gate', (group) => {
  let simulator: ModbusGateSimulator
  let config: Record<string, any>
  let harness: PluginHarness<'gate', unknown> | null

  const startGate = async (overrides: Record<string, unknown> = {}) => {
    harness = await createPluginHarness(
      modbusGate,
      { ...config, ...overrides },
      {
        instanceId: 'front-door',
      }
    )
    await harness.start()
    return harness
  }

  group.each.setup(async () => {
    simulator = new ModbusGateSimulator()
    config = await simulator.start()
    harness = null
    return async () => {
      await harness?.stop()
      await simulator.stop()
    }
  })

  test('a coil pulse: the relay on, and off again when the time is up', async ({ assert }) => {
    const gate = await startGate()
    await gate.call((driver) => driver.open({ durationMs: 400 }))
    assert.equal(await simulator.observedGate(), 'open')
    const open = await gate.driver.state()
    assert.equal(open.position, 'open')

    await until(() => simulator.relayWrites().length === 3, 'the relay is off again')
    const [initial, on, off] = simulator.relayWrites()
    assert.deepEqual([initial.value, on.value, off.value], [0, 1, 0], 'closed at start, pulsed')
    assert.closeTo(off.at - on.at, 400, 100)
    assert.deepEqual(await gate.driver.state(), { position: 'closed', closesAt: null })
  })

  test('opening an open gate restarts its time', async ({ assert }) => {
    const gate = await startGate()
    await gate.call((driver) => driver.open({ durationMs: 300 }))
    await wait(200)
    await gate.call((driver) => driver.open({ durationMs: 300 }))
    await wait(200)
    assert.equal(await simulator.observedGate(), 'open', 'still open 400 ms after the first')
    await until(() => simulator.relayWrites().at(-1)!.value === 0, 'the relay is off')
    const writes = simulator.relayWrites()
    assert.closeTo(writes.at(-1)!.at - writes.at(-2)!.at, 300, 100)
  })

  test('comes up closed, and closes when stopped while open', async ({ assert }) => {
    simulator.board.set(1, 'coils', simulatedWiring.relay, true)
    const gate = await startGate()
    assert.equal(await simulator.observedGate(), 'closed')
    await gate.call((driver) => driver.open({ durationMs: 60_000 }))
    assert.equal(await simulator.observedGate(), 'open')
    await gate.stop()
    harness = null
    assert.equal(await simulator.observedGate(), 'closed')
  })

  test('a register command: the duration to its register, then the command', async ({ assert }) => {
    const gate = await startGate({
      open: { register: 10, value: 1, durationRegister: 11, durationUnitMs: 100 },
      inputs: undefined,
    })
    await gate.call((driver) => driver.open({ durationMs: 2500 }))
    const writes = simulator.board.writes.filter((write) => write.table === 'holding_registers')
    assert.deepEqual(
      writes.map(({ address, value }) => [address, value]),
      [
        [11, 25],
        [10, 1],
      ]
    )
    const state = await gate.driver.state()
    assert.equal(state.position, 'open')
    await assert.rejects(() => gate.driver.open({ durationMs: 101 * 655_36 }), PluginCommandError)
  })

  test('a momentary command that carries its seconds, and a close command', async ({ assert }) => {
    const gate = await startGate({
      open: { register: 3, value: 0x0600, durationInValue: true },
      inputs: undefined,
    })
    await gate.call((driver) => driver.open({ durationMs: 5000 }))
    assert.equal(simulator.board.get(1, 'holding_registers', 3), 0x0605)
    await assert.rejects(() => gate.driver.open({ durationMs: 400 }), /steps of 1000 ms/)
    await gate.stop()

    harness = await createPluginHarness(modbusGate, {
      ...config,
      open: { register: 4, value: 1, closeValue: 0 },
    })
    await harness.start()
    await harness.call((driver) => driver.open({ durationMs: 200 }))
    assert.equal(simulator.board.get(1, 'holding_registers', 4), 1)
    await until(() => simulator.board.get(1, 'holding_registers', 4) === 0, 'closed by command')
  })

  test('refuses a duration it cannot hold, and stays closed', async ({ assert }) => {
    const gate = await startGate()
    for (const durationMs of [0, 99, 600_001, 1.5, Number.NaN]) {
      await assert.rejects(() => gate.driver.open({ durationMs }), PluginCommandError)
    }
    assert.equal(await simulator.observedGate(), 'closed')
  })

  test('a door opened with no opening granted is reported forced', async ({ assert }) => {
    const gate = await startGate()
    await wait(120)
    simulator.setDoor(true)
    await until(() => gate.reports.length > 0, 'a door event')
    assert.equal(gate.reports[0].type, 'door_forced')
    const { position } = await gate.driver.state()
    assert.equal(position, 'open', 'the contact shows it open')

    simulator.setDoor(false)
    await gate.call((driver) => driver.open({ durationMs: 300 }))
    simulator.setDoor(true)
    await wait(200)
    simulator.setDoor(false)
    await wait(150)
    assert.lengthOf(gate.reports, 1, 'a granted passage is no event')
  })

  test('a door left open is reported held open', async ({ assert }) => {
    const gate = await startGate({
      inputs: { ...config.inputs, heldOpenSeconds: 1, graceSeconds: 0 },
    })
    await gate.call((driver) => driver.open({ durationMs: 200 }))
    simulator.setDoor(true)
    await until(() => gate.reports.length > 0, 'a door event')
    const [held] = gate.reports
    assert.equal(held.type, 'door_held_open')
    assert.match(held.message!, /^The door has stood open for 1 s$/)
  })

  test('the exit button is reported and opens the gate', async ({ assert }) => {
    const gate = await startGate({ inputs: { ...config.inputs, exitOpenSeconds: 1 } })
    await wait(120)
    simulator.setExitButton(true)
    await until(() => gate.reports.length > 0, 'a door event')
    assert.equal(gate.reports[0].type, 'exit_button')
    await until(() => simulator.relayWrites().some((write) => write.value === 1), 'the relay on')
    simulator.setExitButton(false)
    simulator.setDoor(true)
    await wait(200)
    assert.lengthOf(gate.reports, 1, 'leaving by the exit button is not forcing the door')
  })

  test('a board that falls silent is one gate fault and an error until it answers', async ({
    assert,
  }) => {
    const gate = await startGate({ timeoutMs: 50, retries: 0 })
    assert.equal(await statusOf(gate), 'ok')
    simulator.board.silent.add(1)
    await until(() => gate.reports.length > 0, 'a gate fault', 5000)
    const [fault] = gate.reports
    assert.equal(fault.type, 'gate_fault')
    assert.match(fault.message!, /^Unit 1 on 127\.0\.0\.1:\d+ did not answer within 50 ms/)
    const health = await gate.health()
    assert.equal(health.status, 'error')

    await gate.stop()
    await assert.rejects(() => gate.start(), /did not answer/)
    assert.lengthOf(gate.reports, 1, 'reported once while it stays silent')

    simulator.board.silent.delete(1)
    await gate.start()
    assert.equal(await statusOf(gate), 'ok')
    simulator.board.silent.add(1)
    await until(() => gate.reports.length > 1, 'a second gate fault', 5000)
    simulator.board.silent.delete(1)
  })

  test('without inputs, health asks the board', async ({ assert }) => {
    const gate = await startGate({ inputs: undefined, timeoutMs: 50, retries: 0 })
    assert.equal(await statusOf(gate), 'ok')
    simulator.board.silent.add(1)
    const health = await gate.health()
    assert.equal(health.status, 'error')
    assert.match(health.message!, /did not answer/)
    assert.deepEqual(
      gate.reports.map((report) => report.type),
      ['gate_fault']
    )
    simulator.board.silent.delete(1)
  })
})
