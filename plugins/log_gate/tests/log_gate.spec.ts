import { test } from '@japa/runner'
import { createPluginHarness, PluginCommandError } from '#plugin-sdk'
import logGate from '../plugin.js'
import LogGateSimulator from '../simulator.js'

test.group('Log gate', (group) => {
  let simulator: LogGateSimulator

  group.each.setup(async () => {
    simulator = new LogGateSimulator()
    return () => simulator.stop()
  })

  test('records every opening in its file and closes when the time is up', async ({ assert }) => {
    const harness = await createPluginHarness(logGate, await simulator.start(), {
      instanceId: 'front-door',
    })
    await harness.start()
    await harness.call((gate) => gate.open({ durationMs: 200 }))

    const open = await harness.driver.state()
    assert.equal(open.position, 'open')
    assert.instanceOf(open.closesAt, Date)
    const [opening] = await simulator.opens()
    assert.include(opening, { instance: 'front-door', label: 'Simulated door', durationMs: 200 })
    assert.equal(opening.closesAt, open.closesAt!.toISOString())

    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(await harness.driver.state(), { position: 'closed', closesAt: null })
    assert.equal(await simulator.observedGate(), 'closed')
    await harness.stop()
  })

  test('opening an open gate restarts its time', async ({ assert }) => {
    const harness = await createPluginHarness(logGate, {})
    await harness.start()
    await harness.call((gate) => gate.open({ durationMs: 200 }))
    await new Promise((resolve) => setTimeout(resolve, 150))
    await harness.call((gate) => gate.open({ durationMs: 200 }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const state = await harness.driver.state()
    assert.equal(state.position, 'open')
    await harness.stop()
  })

  test('refuses a duration it cannot hold and stays closed', async ({ assert }) => {
    const harness = await createPluginHarness(logGate, {})
    await harness.start()
    for (const durationMs of [0, 99, 600_001, 1.5, Number.NaN]) {
      await assert.rejects(() => harness.driver.open({ durationMs }), PluginCommandError)
    }
    const state = await harness.driver.state()
    assert.equal(state.position, 'closed')
    await harness.stop()
  })

  test('reports an error and refuses to open when not started', async ({ assert }) => {
    const harness = await createPluginHarness(logGate, {})
    const health = await harness.health()
    assert.equal(health.status, 'error')
    await assert.rejects(
      () => harness.driver.open({ durationMs: 1000 }),
      'The log gate is not started'
    )
  })
})
