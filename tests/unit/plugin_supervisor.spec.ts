import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import { Logger } from '@adonisjs/core/logger'
import { backoffDelay } from '#plugin-host/backoff'
import { PluginsHealthCheck } from '#plugin-host/health_check'
import type { InstanceSpec } from '#plugin-host/instance_config'
import { readInstancesFile } from '#plugin-host/instances_file'
import { PluginHost } from '#plugin-host/plugin_host'
import type {
  InstanceState,
  InstanceTransition,
  SupervisionPolicy,
} from '#plugin-host/supervised_instance'
import { PluginSupervisor } from '#plugin-host/supervisor'
import {
  definePlugin,
  lightOff,
  PluginCommandError,
  PluginTimeoutError,
  PluginUnavailableError,
  vine,
  type LightCommand,
  type PluginHealth,
} from '#plugin-sdk'

const logger = new Logger({ enabled: false, name: 'plugin-supervisor-test' })

const policy: SupervisionPolicy = {
  timeouts: { startMs: 50, stopMs: 50, healthMs: 50, callMs: 50 },
  healthIntervalMs: 60_000,
  backoff: { baseMs: 10, maxMs: 40 },
  maxFailures: 5,
}

const never = () => new Promise<never>(() => {})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A light whose every step can be made to fail or hang while a test runs.
 */
function fakeLight(id = 'fake-light') {
  const behaviour: {
    start?: () => Promise<void>
    health?: () => Promise<PluginHealth>
    set?: (command: LightCommand) => Promise<void>
  } = {}
  const calls = { start: [] as number[], stop: 0 }
  const plugin = definePlugin({
    id,
    kind: 'light',
    version: '1.0.0',
    config: vine.object({ level: vine.number().optional() }),
    create: () => ({
      async start() {
        calls.start.push(Date.now())
        await behaviour.start?.()
      },
      async stop() {
        calls.stop++
      },
      async health() {
        return behaviour.health ? behaviour.health() : { status: 'ok' as const }
      },
      async set(command: LightCommand) {
        await behaviour.set?.(command)
      },
      async state() {
        return lightOff
      },
    }),
  })
  return { plugin, behaviour, calls }
}

function specFor(id: string, plugin: ReturnType<typeof fakeLight>['plugin']): InstanceSpec {
  return { id, pluginId: plugin.id, enabled: true, plugin, config: {}, problem: null }
}

function supervise(specs: InstanceSpec[], overrides: Partial<SupervisionPolicy> = {}) {
  const supervisor = new PluginSupervisor({ ...policy, ...overrides }, logger)
  for (const spec of specs) supervisor.add(spec)
  return supervisor
}

function reached(supervisor: PluginSupervisor, id: string, state: InstanceState, within = 2000) {
  return new Promise<InstanceTransition>((resolve, reject) => {
    const timer = setTimeout(() => {
      supervisor.off('transition', listener)
      reject(new Error(`${id} did not become ${state} within ${within} ms`))
    }, within)
    const listener = (transition: InstanceTransition) => {
      if (transition.instanceId !== id || transition.to !== state) return
      clearTimeout(timer)
      supervisor.off('transition', listener)
      resolve(transition)
    }
    supervisor.on('transition', listener)
  })
}

test.group('Plugin supervisor', (group) => {
  let supervisor: PluginSupervisor | undefined

  group.each.teardown(async () => {
    await supervisor?.stopAll()
    supervisor = undefined
  })

  test('a hanging start times out and degrades the instance', async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.start = never
    supervisor = supervise([specFor('hanging', light.plugin)], {
      backoff: { baseMs: 5_000, maxMs: 5_000 },
    })

    const startedAt = Date.now()
    await supervisor.startAll()
    const status = supervisor.get('hanging')!.status()

    assert.isBelow(Date.now() - startedAt, 500)
    assert.equal(status.state, 'degraded')
    assert.equal(status.lastError?.code, 'E_PLUGIN_TIMEOUT')
    assert.equal(status.lastError?.message, 'hanging start did not finish within 50 ms')
    assert.equal(light.calls.stop, 1, 'the half-started driver is stopped')
    assert.instanceOf(status.nextRetryAt, Date)
  })

  test('a throwing plugin degrades alone while the others keep running', async ({ assert }) => {
    const broken = fakeLight('broken-light')
    broken.behaviour.start = async () => {
      throw new Error('serial port /dev/ttyS9 is busy')
    }
    const healthy = fakeLight('healthy-light')
    supervisor = supervise([specFor('broken', broken.plugin), specFor('healthy', healthy.plugin)])

    await supervisor.startAll()

    const brokenInstance = supervisor.get('broken', 'light')!
    const healthyInstance = supervisor.ofKind('light').find(({ id }) => id === 'healthy')!
    assert.equal(brokenInstance.state, 'degraded')
    assert.equal(brokenInstance.status().lastError?.message, 'serial port /dev/ttyS9 is busy')
    assert.equal(brokenInstance.status().lastError?.code, 'E_PLUGIN_CRASH')
    assert.equal(healthyInstance.state, 'running')
    assert.equal(healthyInstance.status().lastHealth?.status, 'ok')

    await healthyInstance.use((driver) => driver.set({ on: true }))
    await assert.rejects(
      () => brokenInstance.use((driver) => driver.set({ on: true })),
      PluginUnavailableError
    )
  })

  test('automatic retries back off exponentially up to the cap', async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.start = async () => {
      throw new Error('no answer from the light')
    }
    supervisor = supervise([specFor('flaky', light.plugin)], { maxFailures: 6 })
    const delays: number[] = []
    supervisor.on('transition', (transition) => {
      if (transition.to === 'degraded') delays.push(transition.retryInMs!)
    })

    const waiting = reached(supervisor, 'flaky', 'waiting_for_operator')
    await supervisor.startAll()
    await waiting

    assert.deepEqual(delays, [10, 20, 40, 40, 40])
    assert.lengthOf(light.calls.start, 6)
    const gaps = light.calls.start.slice(1).map((at, index) => at - light.calls.start[index])
    gaps.forEach((gap, index) => assert.isAtLeast(gap, delays[index] - 1))
  })

  test('after too many failures it waits for an operator and stops retrying', async ({
    assert,
  }) => {
    const light = fakeLight()
    light.behaviour.start = async () => {
      throw new Error('no answer from the light')
    }
    supervisor = supervise([specFor('flaky', light.plugin)], { maxFailures: 3 })

    const waiting = reached(supervisor, 'flaky', 'waiting_for_operator')
    await supervisor.startAll()
    const transition = await waiting
    await sleep(150)

    const status = supervisor.get('flaky')!.status()
    assert.equal(transition.error?.message, 'no answer from the light')
    assert.lengthOf(light.calls.start, 3)
    assert.equal(status.state, 'waiting_for_operator')
    assert.equal(status.failures, 3)
    assert.isNull(status.nextRetryAt)
    assert.isTrue(status.retryable)
  })

  test("an operator's retry restarts it and starts the count again", async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.start = async () => {
      throw new Error('no answer from the light')
    }
    supervisor = supervise([specFor('flaky', light.plugin)], { maxFailures: 2 })
    const waiting = reached(supervisor, 'flaky', 'waiting_for_operator')
    await supervisor.startAll()
    await waiting

    delete light.behaviour.start
    assert.deepEqual(await supervisor.retry('flaky'), { ok: true, state: 'running' })
    const status = supervisor.get('flaky')!.status()
    assert.equal(status.failures, 0)
    assert.equal(status.lastHealth?.status, 'ok')
    assert.lengthOf(light.calls.start, 3)

    assert.deepEqual(await supervisor.retry('flaky'), {
      ok: false,
      reason: 'not_retryable',
      state: 'running',
    })
    assert.deepEqual(await supervisor.retry('nowhere'), {
      ok: false,
      reason: 'unknown_instance',
      state: null,
    })
  })

  test('a failing health check degrades a running instance until it recovers', async ({
    assert,
  }) => {
    const light = fakeLight()
    supervisor = supervise([specFor('watched', light.plugin)], { healthIntervalMs: 20 })
    await supervisor.startAll()
    assert.equal(supervisor.get('watched')!.state, 'running')

    light.behaviour.health = async () => ({ status: 'error', message: 'lamp current is zero' })
    const degraded = await reached(supervisor, 'watched', 'degraded')
    assert.equal(degraded.error?.code, 'E_PLUGIN_UNHEALTHY')
    assert.equal(degraded.error?.message, 'lamp current is zero')
    assert.equal(supervisor.get('watched')!.status().lastHealth?.status, 'error')

    delete light.behaviour.health
    await reached(supervisor, 'watched', 'running')
    assert.lengthOf(light.calls.start, 2)
  })

  test('a call that outlives its timeout restarts the instance', async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.set = never
    supervisor = supervise([specFor('stuck', light.plugin)])
    await supervisor.startAll()
    const instance = supervisor.get('stuck', 'light')!

    const degraded = reached(supervisor, 'stuck', 'degraded')
    await assert.rejects(
      () => instance.use((driver) => driver.set({ on: true })),
      PluginTimeoutError
    )
    const transition = await degraded
    assert.equal(transition.error?.code, 'E_PLUGIN_TIMEOUT')

    await reached(supervisor, 'stuck', 'running')
    delete light.behaviour.set
    await instance.use((driver) => driver.set({ on: true }))
  })

  test("a refused command is the caller's problem, not the instance's", async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.set = async () => {
      throw new PluginCommandError('Light level must be a whole number from 0 to 100, not 300')
    }
    supervisor = supervise([specFor('lamp', light.plugin)])
    await supervisor.startAll()
    const instance = supervisor.get('lamp', 'light')!

    await assert.rejects(
      () => instance.use((driver) => driver.set({ on: true, level: 300 })),
      PluginCommandError
    )
    assert.equal(instance.state, 'running')
    assert.isNull(instance.status().lastError)
  })

  test('stopping cancels a pending retry', async ({ assert }) => {
    const light = fakeLight()
    light.behaviour.start = async () => {
      throw new Error('no answer from the light')
    }
    supervisor = supervise([specFor('flaky', light.plugin)], {
      backoff: { baseMs: 30, maxMs: 30 },
    })
    await supervisor.startAll()
    assert.equal(supervisor.get('flaky')!.state, 'degraded')

    await supervisor.stopAll()
    await sleep(100)
    assert.equal(supervisor.get('flaky')!.state, 'stopped')
    assert.lengthOf(light.calls.start, 1)
  })

  test('backoff doubles from the base and never passes the cap', ({ assert }) => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8].map((failures) =>
      backoffDelay(failures, { baseMs: 1_000, maxMs: 60_000 })
    )
    assert.deepEqual(steps, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
  })
})

test.group('Plugin host', (group) => {
  let host: PluginHost | undefined

  group.each.teardown(async () => {
    await host?.stop()
    host = undefined
  })

  function hostWith(entries: unknown[], loaders: ConstructorParameters<typeof PluginHost>[0]) {
    host = new PluginHost(
      loaders,
      { instances: { file: '/srv/plugins.json', entries, error: null }, supervision: policy },
      logger
    )
    return host
  }

  test('a bad entry becomes that instance error and the rest still start', async ({ assert }) => {
    const light = fakeLight('fake-light')
    const plugins = hostWith(
      [
        { id: 'good', plugin: 'fake-light' },
        { id: 'loud', plugin: 'fake-light', config: { level: 'very' } },
        { id: 'ghost', plugin: 'no-such-plugin' },
        { id: 'parked', plugin: 'fake-light', enabled: false },
        { id: 'good', plugin: 'fake-light' },
        { plugin: 'fake-light' },
      ],
      {
        fake_light: async () => ({ default: light.plugin }),
        broken: async () => {
          throw new Error('Cannot find module onnxruntime-node')
        },
        stray: async () => ({ default: { id: 'stray' } }),
      }
    )

    await plugins.start()
    const status = await plugins.status()
    const states = Object.fromEntries(status.instances.map(({ id, state }) => [id, state]))
    const errors = Object.fromEntries(
      status.instances.map(({ id, lastError }) => [id, lastError?.message ?? null])
    )

    assert.deepEqual(states, {
      'good': 'running',
      'loud': 'misconfigured',
      'ghost': 'misconfigured',
      'parked': 'disabled',
      'good#5': 'misconfigured',
      '#6': 'misconfigured',
    })
    assert.equal(errors.loud, 'Invalid config: level: The level field must be a number')
    assert.equal(errors.ghost, 'No installed plugin has the id "no-such-plugin"')
    assert.equal(errors['good#5'], 'Another instance already uses the id "good"')
    assert.match(errors['#6']!, /^Invalid entry: id: /)
    assert.isNull(errors.parked)
    assert.lengthOf(light.calls.start, 1)

    assert.deepEqual(
      status.plugins.map(({ id, folder }) => [id, folder]),
      [['fake-light', 'fake_light']]
    )
    assert.deepEqual(
      status.loadFailures.map(({ folder }) => folder),
      ['broken', 'stray']
    )
    assert.deepEqual(
      plugins.instancesOfKind('light').map(({ id }) => id),
      ['good', 'loud', 'good#5']
    )
    assert.isEmpty(plugins.instancesOfKind('gate'))
    assert.equal(plugins.instance('good', 'light')?.id, 'good')
    assert.isUndefined(plugins.instance('good', 'gate'))
    assert.deepEqual(await plugins.retry('loud'), {
      ok: false,
      reason: 'not_retryable',
      state: 'misconfigured',
    })
  })

  test('stop stops every running instance', async ({ assert }) => {
    const light = fakeLight('fake-light')
    const plugins = hostWith([{ id: 'lamp', plugin: 'fake-light' }], {
      fake_light: async () => ({ default: light.plugin }),
    })
    const seen: string[] = []
    plugins.onTransition(({ to }) => seen.push(to))

    await plugins.start()
    await plugins.stop()

    assert.deepEqual(seen, ['starting', 'running', 'stopping', 'stopped'])
    assert.equal(light.calls.stop, 1)
    assert.equal(plugins.instance('lamp')!.state, 'stopped')
  })

  test('the health check warns about instances that are not running', async ({ assert }) => {
    const working = fakeLight('working-light')
    const broken = fakeLight('broken-light')
    broken.behaviour.start = async () => {
      throw new Error('no answer from the light')
    }
    const plugins = hostWith(
      [
        { id: 'lamp', plugin: 'working-light' },
        { id: 'spot', plugin: 'broken-light' },
      ],
      {
        working_light: async () => ({ default: working.plugin }),
        broken_light: async () => ({ default: broken.plugin }),
      }
    )
    const check = new PluginsHealthCheck(plugins)

    await plugins.start()
    const result = await check.run()
    assert.equal(result.status, 'warning')
    assert.equal(result.message, 'spot is degraded')
    assert.deepEqual(
      result.meta?.instances.map(({ id, state }: { id: string; state: string }) => [id, state]),
      [
        ['lamp', 'running'],
        ['spot', 'degraded'],
      ]
    )

    delete broken.behaviour.start
    await plugins.retry('spot')
    const healthy = await check.run()
    assert.equal(healthy.status, 'ok')
    assert.equal(healthy.message, '2 plugin instance(s) running')
  })
})

test.group('Plugins file', (group) => {
  let folder: string

  group.each.setup(async () => {
    folder = await mkdtemp(join(tmpdir(), 'plugins-file-'))
    return () => rm(folder, { recursive: true, force: true })
  })

  test('reads the array of instances', async ({ assert }) => {
    const file = join(folder, 'plugins.json')
    await writeFile(file, JSON.stringify([{ id: 'lamp', plugin: 'log-light' }]))

    assert.deepEqual(readInstancesFile(file, true), {
      file,
      entries: [{ id: 'lamp', plugin: 'log-light' }],
      error: null,
    })
  })

  test('a missing default file means no instances, a missing chosen file is an error', ({
    assert,
  }) => {
    const file = join(folder, 'absent.json')

    assert.deepEqual(readInstancesFile(file, false), { file, entries: [], error: null })
    const chosen = readInstancesFile(file, true)
    assert.isEmpty(chosen.entries)
    assert.match(chosen.error!, /^Cannot read .*absent\.json: ENOENT/)
  })

  test('broken JSON or another shape is reported, not thrown', async ({ assert }) => {
    const broken = join(folder, 'broken.json')
    const object = join(folder, 'object.json')
    await writeFile(broken, '[{ "id": "lamp", }]')
    await writeFile(object, '{ "instances": [] }')

    assert.match(readInstancesFile(broken, true).error!, /broken\.json is not valid JSON: /)
    assert.equal(
      readInstancesFile(object, true).error,
      `${object} must hold a JSON array of plugin instances`
    )
  })
})
