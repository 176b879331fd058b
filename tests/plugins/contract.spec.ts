import { test } from '@japa/runner'
import type { Assert } from '@japa/assert'
import { plugins } from '#generated/plugins'
import { PluginRegistry } from '#plugin-host/registry'
import {
  createPluginHarness,
  engineCapabilities,
  PluginCommandError,
  type DetectedFace,
  type EngineInput,
  type EngineOutcome,
  type FaceFeature,
  pluginKinds,
  type Plugin,
  type PluginHarness,
  type PluginKind,
  type PluginSimulator,
  type PluginSimulators,
} from '#plugin-sdk'

/**
 * The contract every plugin in the generated registry must keep, checked
 * against the simulator in its folder. A new plugin gets these tests by
 * existing; its own folder's tests cover the rest.
 */
const registry = await PluginRegistry.load(plugins)

async function loadSimulator(folder: string): Promise<PluginSimulator> {
  const module = await import(`#plugins/${folder}/simulator`)
  return new module.default()
}

type KindContract<Kind extends PluginKind> = (
  assert: Assert,
  harness: PluginHarness<Kind, unknown>,
  simulator: PluginSimulators[Kind]
) => Promise<void>

const kindContracts: { [Kind in PluginKind]: KindContract<Kind> } = {
  async light(assert, harness, simulator) {
    const { capabilities } = harness.plugin
    const color = capabilities.includes('color') ? '#336699' : undefined
    const level = capabilities.includes('level') ? 40 : undefined
    await harness.call((light) => light.set({ on: true, level, color }))

    const state = await harness.call((light) => light.state())
    assert.isTrue(state.on)
    if (level !== undefined) assert.equal(state.level, level)
    if (color !== undefined) assert.equal(state.color, color)
    assert.deepEqual(await simulator.observedLight(), state)

    await harness.call((light) => light.set({ on: false }))
    const off = await harness.call((light) => light.state())
    assert.isFalse(off.on)
    assert.deepEqual(await simulator.observedLight(), off)

    await assert.rejects(
      () => harness.call((light) => light.set({ on: true, level: 150 })),
      PluginCommandError
    )
  },

  async gate(assert, harness, simulator) {
    await harness.call((gate) => gate.open({ durationMs: 300 }))
    const state = await harness.call((gate) => gate.state())
    assert.equal(state.position, 'open')
    assert.instanceOf(state.closesAt, Date)
    assert.equal(await simulator.observedGate(), 'open')

    await new Promise((resolve) => setTimeout(resolve, 600))
    const closed = await harness.call((gate) => gate.state())
    assert.equal(closed.position, 'closed')
    assert.equal(await simulator.observedGate(), 'closed')
  },

  async reader(assert, harness, simulator) {
    const abort = new AbortController()
    const reads = harness.driver.reads(abort.signal)[Symbol.asyncIterator]()
    const next = reads.next()
    await simulator.presentCard('04A1B2C3')
    const { value } = await harness.call(() => next)
    abort.abort()
    assert.equal(value.uid, '04A1B2C3')
    assert.instanceOf(value.at, Date)
  },

  async engine(assert, harness, simulator) {
    const driver = harness.driver
    assert.deepEqual([...driver.capabilities].sort(), [...harness.plugin.capabilities].sort())
    assert.isNotEmpty(driver.capabilities)
    const input = await simulator.sampleInput()
    const empty = await simulator.emptyInput()
    for (const capability of driver.capabilities) {
      assert.include(engineCapabilities, capability)
      const operation = driver[capability] as
        ((input: EngineInput) => Promise<EngineOutcome<Record<string, unknown>>>) | undefined
      assert.isFunction(operation, `${capability} is declared but not implemented`)
      const outcome = await harness.call(() => operation!.call(driver, input))
      assert.isTrue(outcome.ok, `${capability} found no face in the sample`)
      if (!outcome.ok) continue
      const faces = (capability === 'detect' ? outcome.faces : [outcome.face]) as DetectedFace[]
      assert.isNotEmpty(faces)
      for (const face of faces) {
        assert.isBelow(face.box.left, face.box.right)
        assert.isBelow(face.box.top, face.box.bottom)
        assert.lengthOf(face.landmarks, 5)
        assert.oneOf(face.angleCode, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
      }
      if (capability === 'embed') {
        const { vector } = outcome.feature as FaceFeature
        const norm = Math.hypot(...vector)
        assert.closeTo(norm, 1, 1e-3, 'features are L2-normalised')
      }
      const none = await harness.call(() => operation!.call(driver, empty))
      assert.deepEqual(none, { ok: false, error: { type: 'no_face' } })
    }
  },
}

function checkKind<Kind extends PluginKind>(
  assert: Assert,
  harness: PluginHarness<Kind, unknown>,
  simulator: PluginSimulator
) {
  const contract = kindContracts[harness.plugin.kind] as KindContract<Kind>
  return contract(assert, harness, simulator as PluginSimulators[Kind])
}

test.group('Plugin registry', () => {
  test('every plugin folder loads', ({ assert }) => {
    assert.deepEqual(registry.failures, [])
    assert.isNotEmpty(registry.all())
  })
})

for (const { folder, plugin } of registry.all()) {
  test.group(`Plugin contract: ${plugin.id}`, (group) => {
    let simulator: PluginSimulator
    let config: Record<string, unknown>

    group.each.setup(async () => {
      simulator = await loadSimulator(folder)
      config = await simulator.start()
      return () => simulator.stop()
    })

    test('declares a well-formed manifest', ({ assert }) => {
      assert.equal(folder, plugin.id.replaceAll('-', '_'), 'the folder is the id in snake_case')
      assert.include(pluginKinds, plugin.kind)
      assert.match(plugin.version, /^\d+\.\d+\.\d+/)
      assert.isTrue(plugin.capabilities.every((capability) => typeof capability === 'string'))
      for (const timeout of Object.values(plugin.timeouts)) assert.isAbove(timeout, 0)
    })

    test('its config schema accepts the simulator config and rejects bad ones', async ({
      assert,
    }) => {
      const accepted = await plugin.parseConfig(config)
      assert.isTrue(accepted.ok)
      assert.isNotEmpty(simulator.invalidConfigs, 'the simulator lists configs to reject')
      for (const invalid of [...simulator.invalidConfigs, 'not an object', null, [1, 2]]) {
        const result = await plugin.parseConfig(invalid)
        assert.isFalse(result.ok, `accepted ${JSON.stringify(invalid)}`)
        if (!result.ok) assert.isNotEmpty(result.issues)
      }
    })

    test('starts, reports health, stops and starts again', async ({ assert }) => {
      const harness = await createPluginHarness(plugin as Plugin, config)
      const healthAfter = async (step: () => Promise<void>) => {
        await step()
        const health = await harness.health()
        return health.status
      }

      assert.oneOf(await healthAfter(harness.start), ['ok', 'warning'])
      assert.equal(await healthAfter(harness.stop), 'error', 'a stopped instance is not healthy')
      assert.oneOf(await healthAfter(harness.start), ['ok', 'warning'], 'it starts again')
      await harness.stop()
    })

    test(`behaves as a ${plugin.kind}`, async ({ assert }) => {
      const harness = await createPluginHarness(plugin as Plugin, config)
      await harness.start()
      try {
        await checkKind(assert, harness, simulator)
      } finally {
        await harness.stop()
      }
    })
  })
}
