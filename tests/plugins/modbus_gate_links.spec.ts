import { test } from '@japa/runner'
import { Logger } from '@adonisjs/core/logger'
import { PluginHost } from '#plugin-host/plugin_host'
import type {
  InstanceDoorEvent,
  InstanceState,
  SupervisionPolicy,
} from '#plugin-host/supervised_instance'
import { ModbusCrcError } from '#plugin-sdk'
import { ModbusPeer } from '#tests/helpers/modbus_peer'

const logger = new Logger({ enabled: false, name: 'modbus-gate-links' })

/** Quick health checks and retries, so that outages and recoveries show within a test. */
const policy: SupervisionPolicy = {
  timeouts: { startMs: 2000, stopMs: 2000, healthMs: 2000, callMs: 3000 },
  healthIntervalMs: 100,
  backoff: { baseMs: 100, maxMs: 400 },
  maxFailures: 100,
  restartWaitMs: 0,
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(10)
  }
}

/**
 * Modbus gate instances under the plugin host, against pymodbus over a
 * socat pty pair (RTU) and loopback TCP: what a site's RS-485 bus does,
 * including its faults.
 */
test.group('Modbus gate over real links', (group) => {
  let peer: ModbusPeer | null
  let host: PluginHost | null
  let doorEvents: InstanceDoorEvent[]
  let states: Map<string, InstanceState[]>

  group.each.setup(() => {
    peer = null
    host = null
    doorEvents = []
    states = new Map()
    return async () => {
      await host?.stop()
      await peer?.stop()
    }
  })

  async function startHost(entries: { id: string; config: Record<string, unknown> }[]) {
    host = new PluginHost(
      { modbus_gate: () => import('#plugins/modbus_gate/plugin') },
      {
        instances: {
          file: 'modbus-gates.json',
          entries: entries.map(({ id, config }) => ({ id, plugin: 'modbus-gate', config })),
          error: null,
        },
        supervision: policy,
      },
      logger
    )
    const events = doorEvents
    const seen = states
    host.onDoorEvent((event) => events.push(event))
    host.onTransition(({ instanceId, to }) => {
      seen.set(instanceId, [...(seen.get(instanceId) ?? []), to])
    })
    await host.start()
    return host
  }

  const gate = (id: string) => host!.instance(id, 'gate')!

  /**
   * A door on `unitId`. The timeout leaves room for a slave slowed by a
   * busy machine; the tests of silence give their own.
   */
  const doorConfig = (unitId: number, extra: Record<string, unknown> = {}) => ({
    bus: peer!.bus,
    unitId,
    timeoutMs: 1000,
    retries: 1,
    open: { coil: 0 },
    inputs: {
      door: { table: 'discrete_inputs', address: 0 },
      exitButton: { table: 'discrete_inputs', address: 1 },
      pollMs: 100,
      faultAfter: 2,
      heldOpenSeconds: 1,
      graceSeconds: 0,
    },
    ...extra,
  })

  test('the coil is on for the open time, within 100 ms, over RTU', async ({ assert }) => {
    peer = await ModbusPeer.rtu()
    const { inputs, ...relayOnly } = doorConfig(1)
    assert.isObject(inputs, 'no polling: the relay alone is timed')
    await startHost([{ id: 'front-door', config: relayOnly }])
    assert.equal(gate('front-door').state, 'running')
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')

    for (const durationMs of [300, 1000]) {
      const before = peer.writesTo('co', 1, 0).length
      await gate('front-door').use((driver) => driver.open({ durationMs }))
      const [on, off] = await peer.waitFor((writes) => {
        const pulse = writes
          .filter((write) => write.table === 'co' && write.unit === 1 && write.address === 0)
          .slice(before)
        return pulse.length === 2 && pulse
      })
      assert.deepEqual([on.values, off.values], [[1], [0]])
      assert.closeTo(off.at - on.at, durationMs, 100)
    }
  })

  test('two boards on one bus: each gate pulses its own relay while both poll', async ({
    assert,
  }) => {
    peer = await ModbusPeer.rtu({ units: [1, 2] })
    await startHost([
      { id: 'entry', config: doorConfig(1) },
      { id: 'exit', config: doorConfig(2) },
    ])
    await peer.waitFor((writes) => writes.length === 2, 'both relays switched off at start')
    for (let round = 1; round <= 5; round++) {
      await Promise.all([
        gate('entry').use((driver) => driver.open({ durationMs: 150 })),
        gate('exit').use((driver) => driver.open({ durationMs: 250 })),
      ])
      await peer.waitFor(
        (writes) => writes.filter((write) => write.values[0] === 0).length === 2 + 2 * round,
        `both relays off after round ${round}`
      )
    }
    const pulses = (unit: number) => peer!.writesTo('co', unit, 0).map((write) => write.values[0])
    const onOff = [0, ...Array.from({ length: 5 }, () => [1, 0]).flat()]
    assert.deepEqual(pulses(1), onOff, 'the entry relay: closed at start, then five pulses')
    assert.deepEqual(pulses(2), onOff, 'the exit relay')
    for (const unit of [1, 2]) {
      const writes = peer.writesTo('co', unit, 0)
      for (let index = 1; index < writes.length; index += 2) {
        const held = writes[index + 1].at - writes[index].at
        assert.isAtLeast(held, unit === 1 ? 150 : 250, 'never shorter than asked')
      }
    }
    assert.isEmpty(doorEvents)
  })

  test('a board that stops answering: a gate fault, backoff, and running again when it answers', async ({
    assert,
  }) => {
    peer = await ModbusPeer.rtu()
    await startHost([{ id: 'front-door', config: doorConfig(1, { timeoutMs: 100 }) }])
    await peer.silence([1])

    await until(() => doorEvents.length > 0, 'a gate fault')
    assert.deepEqual(
      doorEvents.map(({ instanceId, event }) => [instanceId, event.type]),
      [['front-door', 'gate_fault']]
    )
    assert.match(
      doorEvents[0].event.message!,
      /^Unit 1 on .+ did not answer within 100 ms \(2 attempts\)$/
    )
    await until(() => (states.get('front-door') ?? []).includes('degraded'), 'degraded')
    await until(
      () => (states.get('front-door') ?? []).filter((state) => state === 'starting').length >= 3,
      'two retries that fail'
    )
    assert.equal(gate('front-door').state === 'running', false)
    assert.lengthOf(doorEvents, 1, 'one fault for the outage, not one per retry')
    assert.isAbove(gate('front-door').status().failures, 1, 'backing off')

    await peer.silence([])
    await until(() => gate('front-door').state === 'running', 'running again', 3000)
    await gate('front-door').use((driver) => driver.open({ durationMs: 200 }))
    await peer.waitFor((writes) =>
      writes.some((write) => write.table === 'co' && write.values[0] === 1)
    )
  })

  test('a damaged answer is reported as a CRC error and the bus goes on', async ({ assert }) => {
    peer = await ModbusPeer.rtu()
    const { inputs, ...withoutInputs } = doorConfig(1, { retries: 0 })
    assert.isObject(inputs)
    await startHost([{ id: 'front-door', config: withoutInputs }])
    await peer.corrupt(1)
    const failure = await gate('front-door')
      .use((driver) => driver.open({ durationMs: 500 }))
      .catch((error) => error)
    assert.instanceOf(failure, ModbusCrcError)
    assert.match(failure.message, /^CRC error in the answer of unit 1 on /)

    await gate('front-door').use((driver) => driver.open({ durationMs: 200 }))
    const [, on, off] = await peer.waitFor((writes) => {
      const coil = writes.filter((write) => write.table === 'co')
      return coil.length === 4 && coil.slice(1)
    })
    assert.deepEqual([on.values, off.values], [[1], [0]])
    assert.equal(gate('front-door').state, 'running')
  })

  test('the serial adapter pulled out and plugged back in', async ({ assert }) => {
    peer = await ModbusPeer.rtu()
    await startHost([{ id: 'front-door', config: doorConfig(1) }])
    await peer.unplug()
    await until(() => doorEvents.length > 0, 'a gate fault')
    assert.equal(doorEvents[0].event.type, 'gate_fault')
    assert.match(doorEvents[0].event.message!, /went away|Cannot open|did not answer/)
    await until(() => gate('front-door').state !== 'running', 'out of service')

    await peer.plug()
    await until(() => gate('front-door').state === 'running', 'running again', 3000)
    await gate('front-door').use((driver) => driver.open({ durationMs: 200 }))
    await peer.waitFor((writes) =>
      writes.some((write) => write.table === 'co' && write.values[0] === 1)
    )
  })

  test('door forced, held open and the exit button, from the board inputs', async ({ assert }) => {
    peer = await ModbusPeer.rtu()
    const config = doorConfig(1)
    await startHost([
      { id: 'front-door', config: { ...config, inputs: { ...config.inputs, exitOpenSeconds: 1 } } },
    ])
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')
    await wait(500)

    await peer.set('di', 1, 0, 1)
    await until(() => doorEvents.length === 1, 'the door forced')
    await until(() => doorEvents.length === 2, 'the door held open')
    await peer.set('di', 1, 0, 0)

    await peer.set('di', 1, 1, 1)
    await until(() => doorEvents.length === 3, 'the exit button')
    await peer.waitFor((writes) =>
      writes.some((write) => write.table === 'co' && write.values[0] === 1)
    )
    await peer.set('di', 1, 1, 0)
    await peer.set('di', 1, 0, 1)
    await wait(200)
    await peer.set('di', 1, 0, 0)

    assert.deepEqual(
      doorEvents.map(({ event }) => event.type),
      ['door_forced', 'door_held_open', 'exit_button']
    )
  })

  test('the coil pulse over Modbus TCP', async ({ assert }) => {
    peer = await ModbusPeer.tcp()
    await startHost([{ id: 'gate-tcp', config: doorConfig(1) }])
    await gate('gate-tcp').use((driver) => driver.open({ durationMs: 400 }))
    const [on, off] = await peer.waitFor((writes) => {
      const pulse = writes.filter((write) => write.table === 'co').slice(1)
      return pulse.length === 2 && pulse
    })
    assert.closeTo(off.at - on.at, 400, 100)
  })
})
