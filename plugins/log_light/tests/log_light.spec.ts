import { test } from '@japa/runner'
import { createPluginHarness, PluginCommandError, PluginConfigError } from '#plugin-sdk'
import logLight from '../plugin.js'
import LogLightSimulator from '../simulator.js'

test.group('Log light', (group) => {
  let simulator: LogLightSimulator

  group.each.setup(async () => {
    simulator = new LogLightSimulator()
    return () => simulator.stop()
  })

  test('appends every state it is put in to its file, starting dark', async ({ assert }) => {
    const harness = await createPluginHarness(logLight, await simulator.start(), {
      instanceId: 'bench-light',
    })
    await harness.start()
    await harness.call((light) => light.set({ on: true, level: 60, color: '#FFAA00' }))
    await harness.call((light) => light.set({ on: false }))
    await harness.stop()

    const records = await simulator.records()
    assert.deepEqual(
      records.map(({ event, on, level, color }) => ({ event, on, level, color })),
      [
        { event: 'start', on: false, level: 0, color: null },
        { event: 'set', on: true, level: 60, color: '#ffaa00' },
        { event: 'set', on: false, level: 60, color: '#ffaa00' },
      ]
    )
    assert.isTrue(records.every((record) => record.instance === 'bench-light'))
    assert.isTrue(records.every((record) => record.label === 'Simulated light'))
  })

  test('switching on without a level restores the last one, or full', async ({ assert }) => {
    const harness = await createPluginHarness(logLight, {})
    await harness.start()

    await harness.call((light) => light.set({ on: true }))
    assert.deepEqual(await harness.driver.state(), { on: true, level: 100, color: null })

    await harness.call((light) => light.set({ on: true, level: 30 }))
    await harness.call((light) => light.set({ on: false }))
    await harness.call((light) => light.set({ on: true }))
    assert.deepEqual(await harness.driver.state(), { on: true, level: 30, color: null })
    await harness.stop()
  })

  test('without a file it records to the log only', async ({ assert }) => {
    const harness = await createPluginHarness(logLight, { label: 'Gate 3' })
    await harness.start()
    await harness.call((light) => light.set({ on: true, level: 80 }))

    const health = await harness.health()
    assert.equal(health.status, 'ok')
    assert.equal(health.message, 'Recording to the log')
    assert.deepEqual(
      harness.logs.map(({ level, message, details }) => [level, message, details.level]),
      [
        ['info', 'light off', 0],
        ['info', 'light on', 80],
      ]
    )
    assert.isTrue(harness.logs.every(({ details }) => details.label === 'Gate 3'))
    await harness.stop()
  })

  test('rejects commands a light cannot carry out and keeps its state', async ({ assert }) => {
    const harness = await createPluginHarness(logLight, {})
    await harness.start()
    await harness.call((light) => light.set({ on: true, level: 50 }))

    await assert.rejects(() => harness.driver.set({ on: true, level: 101 }), PluginCommandError)
    await assert.rejects(() => harness.driver.set({ on: true, level: 12.5 }), PluginCommandError)
    await assert.rejects(
      () => harness.driver.set({ on: true, color: 'orange' }),
      PluginCommandError
    )
    assert.deepEqual(await harness.driver.state(), { on: true, level: 50, color: null })
    await harness.stop()
  })

  test('reports an error and refuses commands when not started', async ({ assert }) => {
    const harness = await createPluginHarness(logLight, {})
    const before = await harness.health()
    assert.equal(before.status, 'error')
    await assert.rejects(() => harness.driver.set({ on: true }), 'The log light is not started')

    await harness.start()
    await harness.stop()
    const after = await harness.health()
    assert.equal(after.status, 'error')
  })

  test('its config schema names the field at fault', async ({ assert }) => {
    const error = await createPluginHarness(logLight, { label: 42 }).catch((caught) => caught)
    assert.instanceOf(error, PluginConfigError)
    assert.deepEqual(
      error.issues.map((issue: { field: string }) => issue.field),
      ['label']
    )
  })
})
