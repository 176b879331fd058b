import { test } from '@japa/runner'
import { createPluginHarness, ModbusTimeoutError, PluginCommandError } from '#plugin-sdk'
import modbusLight from '../plugin.js'
import ModbusLightSimulator, { simulatedLight } from '../simulator.js'

test.group('Modbus light', (group) => {
  let simulator: ModbusLightSimulator
  let config: Record<string, any>

  group.each.setup(async () => {
    simulator = new ModbusLightSimulator()
    config = await simulator.start()
    return () => simulator.stop()
  })

  test('dims before switching on, switches off with the relay, comes up dark', async ({
    assert,
  }) => {
    const { unitId, coil, levelRegister } = simulatedLight
    simulator.board.set(unitId, 'coils', coil, true)
    const light = await createPluginHarness(modbusLight, config)
    await light.start()
    const atStart = await simulator.observedLight()
    assert.isFalse(atStart.on, 'dark after start')

    await light.call((driver) => driver.set({ on: true, level: 75 }))
    assert.equal(simulator.board.get(unitId, 'holding_registers', levelRegister), 750)
    const writes = simulator.board.writes.slice(-2).map((write) => write.table)
    assert.deepEqual(writes, ['holding_registers', 'coils'])
    assert.deepEqual(await simulator.observedLight(), { on: true, level: 75, color: null })

    await light.call((driver) => driver.set({ on: false }))
    assert.deepEqual(await simulator.observedLight(), { on: false, level: 75, color: null })
    await light.call((driver) => driver.set({ on: true }))
    assert.deepEqual(await light.driver.state(), { on: true, level: 75, color: null })
    await light.stop()
  })

  test('a relay alone: on and off', async ({ assert }) => {
    const { levelRegister, levelMax, ...relayOnly } = config
    assert.isDefined(levelRegister && levelMax)
    const light = await createPluginHarness(modbusLight, relayOnly)
    await light.start()
    await light.call((driver) => driver.set({ on: true, level: 30 }))
    assert.isTrue(Boolean(simulator.board.get(config.unitId, 'coils', config.coil)))
    assert.isFalse(simulator.board.writes.some((write) => write.table === 'holding_registers'))
    await light.stop()
  })

  test('a dimmer alone: off writes 0', async ({ assert }) => {
    const { coil, ...dimmerOnly } = config
    assert.isDefined(coil)
    const light = await createPluginHarness(modbusLight, dimmerOnly)
    await light.start()
    await light.call((driver) => driver.set({ on: true, level: 10 }))
    assert.equal(simulator.board.get(config.unitId, 'holding_registers', config.levelRegister), 100)
    await light.call((driver) => driver.set({ on: false }))
    assert.equal(simulator.board.get(config.unitId, 'holding_registers', config.levelRegister), 0)
    await light.stop()
  })

  test('a command the board does not take leaves the state as it was', async ({ assert }) => {
    const light = await createPluginHarness(modbusLight, { ...config, timeoutMs: 50, retries: 0 })
    await light.start()
    await light.call((driver) => driver.set({ on: true, level: 40 }))
    await assert.rejects(() => light.driver.set({ on: true, level: 101 }), PluginCommandError)
    simulator.board.silent.add(config.unitId)
    await assert.rejects(() => light.driver.set({ on: false }), ModbusTimeoutError)
    assert.deepEqual(await light.driver.state(), { on: true, level: 40, color: null })
    const health = await light.health()
    assert.equal(health.status, 'error')
    assert.match(health.message!, /did not answer within 50 ms/)
    simulator.board.silent.clear()
    await light.stop()
  })

  test('needs a relay or a dimmer', async ({ assert }) => {
    const { coil, levelRegister, ...neither } = config
    assert.isDefined(coil ?? levelRegister)
    const parsed = await modbusLight.parseConfig(neither)
    assert.isFalse(parsed.ok)
  })
})
