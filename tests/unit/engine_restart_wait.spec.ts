import { test } from '@japa/runner'
import { Logger } from '@adonisjs/core/logger'
import { PluginHost } from '#plugin-host/plugin_host'
import type {
  InstanceState,
  InstanceTransition,
  SupervisionPolicy,
} from '#plugin-host/supervised_instance'
import { PluginSupervisor } from '#plugin-host/supervisor'
import {
  definePlugin,
  PluginError,
  PluginTimeoutError,
  PluginUnavailableError,
  vine,
  type DetectedFace,
  type PluginHealth,
} from '#plugin-sdk'
import { RecognitionEngine } from '#faces/recognition_engine'
import { codeFor } from '#services/terminal/protocol'

/**
 * What a terminal sees of an engine restart: calls made while the
 * instance restarts wait for it, up to the policy's `restartWaitMs`, and
 * only a restart that takes longer costs them an answer, code 3.
 */
const logger = new Logger({ enabled: false, name: 'engine-restart-wait-test' })

const policy: SupervisionPolicy = {
  timeouts: { startMs: 2_000, stopMs: 2_000, healthMs: 200, callMs: 1_000 },
  healthIntervalMs: 60_000,
  backoff: { baseMs: 50, maxMs: 50 },
  maxFailures: 5,
  restartWaitMs: 1_000,
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const image = { width: 2, height: 2, data: new Uint8Array(12) }
const face: DetectedFace = {
  box: { left: 0, top: 0, right: 2, bottom: 2 },
  score: 0.9,
  landmarks: [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 2],
    [1, 2],
  ],
  angle: 0,
  angleCode: 1,
}

/**
 * An engine that, like the face engine, refuses calls once its stop has
 * begun, and whose every step can be slowed or made to fail.
 */
function fakeEngine() {
  const behaviour = {
    startMs: 0,
    stopMs: 0,
    health: null as PluginHealth | null,
    detect: null as (() => Promise<never>) | null,
  }
  const refused: string[] = []
  const plugin = definePlugin({
    id: 'fake-engine',
    kind: 'engine',
    version: '1.0.0',
    capabilities: ['detect'],
    config: vine.object({}),
    create: () => {
      let serving = false
      return {
        capabilities: ['detect'] as const,
        async start() {
          await sleep(behaviour.startMs)
          serving = true
        },
        async stop() {
          serving = false
          await sleep(behaviour.stopMs)
        },
        async health() {
          return behaviour.health ?? { status: 'ok' as const }
        },
        async detect() {
          if (!serving) {
            refused.push('detect')
            throw new PluginError('The face engine is not started', 'E_PLUGIN_STOPPED')
          }
          if (behaviour.detect) return behaviour.detect()
          return { ok: true as const, faces: [face] }
        },
      }
    },
  })
  return { plugin, behaviour, refused }
}

function reached(supervisor: PluginSupervisor, state: InstanceState) {
  return new Promise<InstanceTransition>((resolve) => {
    const listener = (transition: InstanceTransition) => {
      if (transition.to !== state) return
      supervisor.off('transition', listener)
      resolve(transition)
    }
    supervisor.on('transition', listener)
  })
}

test.group('Calls while an instance restarts', (group) => {
  let supervisor: PluginSupervisor | undefined

  group.each.teardown(async () => {
    await supervisor?.stopAll()
    supervisor = undefined
  })

  async function running(engine: ReturnType<typeof fakeEngine>, overrides = {}) {
    supervisor = new PluginSupervisor({ ...policy, ...overrides }, logger)
    supervisor.add({
      id: 'engine',
      pluginId: engine.plugin.id,
      enabled: true,
      plugin: engine.plugin,
      config: {},
      problem: null,
    })
    await supervisor.startAll()
    return supervisor.get('engine', 'engine')!
  }

  test('a call made during a restart waits for it and is served', async ({ assert }) => {
    const engine = fakeEngine()
    const instance = await running(engine)
    engine.behaviour.startMs = 200
    engine.behaviour.detect = () => new Promise<never>(() => {})
    const degraded = reached(supervisor!, 'degraded')
    const timedOut = instance.use((driver) => driver.detect!({ image }))
    await assert.rejects(() => timedOut, PluginTimeoutError)
    await degraded
    engine.behaviour.detect = null

    const calledAt = Date.now()
    const outcome = await instance.use((driver) => driver.detect!({ image }))
    const waited = Date.now() - calledAt
    assert.deepEqual(outcome, { ok: true, faces: [face] })
    assert.isAtLeast(waited, 150, 'it waited for the backoff and the start')
    assert.isBelow(waited, 1_000)
    assert.equal(instance.state, 'running')
  })

  test('no call reaches the driver while it stops after a failure', async ({ assert }) => {
    const engine = fakeEngine()
    const instance = await running(engine, { healthIntervalMs: 20 })
    engine.behaviour.stopMs = 300
    engine.behaviour.health = { status: 'error', message: 'a worker died' }
    await reached(supervisor!, 'degraded')
    engine.behaviour.health = null

    const outcomes = await Promise.all(
      Array.from({ length: 5 }, async (_, index) => {
        await sleep(index * 50)
        return instance.use((driver) => driver.detect!({ image }))
      })
    )
    assert.deepEqual(
      outcomes.map((outcome) => outcome.ok),
      [true, true, true, true, true]
    )
    assert.deepEqual(engine.refused, [], 'no call met the stopping driver')
  })

  test('a call waits no longer than restartWaitMs, then is refused', async ({ assert }) => {
    const engine = fakeEngine()
    const instance = await running(engine, { restartWaitMs: 300, healthIntervalMs: 20 })
    engine.behaviour.startMs = 800
    engine.behaviour.health = { status: 'error', message: 'a worker died' }
    await reached(supervisor!, 'degraded')

    const calledAt = Date.now()
    const error = await instance
      .use((driver) => driver.detect!({ image }))
      .catch((caught: unknown) => caught)
    const waited = Date.now() - calledAt
    assert.instanceOf(error, PluginUnavailableError)
    assert.isAtLeast(waited, 250)
    assert.isBelow(waited, 700)
  })

  test('a call to an instance that retries later than the wait is refused at once', async ({
    assert,
  }) => {
    const engine = fakeEngine()
    const instance = await running(engine, {
      healthIntervalMs: 20,
      backoff: { baseMs: 10_000, maxMs: 10_000 },
    })
    engine.behaviour.health = { status: 'error', message: 'a worker died' }
    await reached(supervisor!, 'degraded')

    const calledAt = Date.now()
    await assert.rejects(
      () => instance.use((driver) => driver.detect!({ image })),
      PluginUnavailableError
    )
    assert.isBelow(Date.now() - calledAt, 50)
    assert.isFalse(instance.available)
  })
})

test.group('Recognition engine while its engine restarts', (group) => {
  let host: PluginHost | undefined

  group.each.teardown(async () => {
    await host?.stop()
    host = undefined
  })

  async function recognitionOn(engine: ReturnType<typeof fakeEngine>, overrides = {}) {
    host = new PluginHost(
      { fake_engine: async () => ({ default: engine.plugin }) },
      {
        instances: {
          file: '/srv/plugins.json',
          entries: [{ id: 'engine', plugin: 'fake-engine' }],
          error: null,
        },
        supervision: { ...policy, healthIntervalMs: 20, ...overrides },
      },
      logger
    )
    await host.start()
    return new RecognitionEngine(host)
  }

  async function restarting(engine: ReturnType<typeof fakeEngine>) {
    const degraded = new Promise<void>((resolve) => {
      const stop = host!.onTransition(({ to }) => {
        if (to !== 'degraded') return
        stop()
        resolve()
      })
    })
    engine.behaviour.health = { status: 'error', message: 'a worker died' }
    await degraded
    engine.behaviour.health = null
  }

  test('a picture sent during a restart is answered once the engine is back', async ({
    assert,
  }) => {
    const engine = fakeEngine()
    const recognition = await recognitionOn(engine)
    engine.behaviour.startMs = 200
    await restarting(engine)

    const opened = recognition.picture(image, 'image')
    assert.isTrue(opened.ok)
    if (!opened.ok) return
    assert.deepEqual(await opened.picture.detect(), { ok: true, faces: [face] })
  })

  test('past the wait the answer is engine_unavailable, code 3', async ({ assert }) => {
    const engine = fakeEngine()
    const recognition = await recognitionOn(engine, { restartWaitMs: 200 })
    engine.behaviour.startMs = 800
    await restarting(engine)

    const opened = recognition.picture(image, 'image')
    assert.isTrue(opened.ok)
    if (!opened.ok) return
    const outcome = await opened.picture.detect()
    assert.isFalse(outcome.ok)
    if (outcome.ok) return
    assert.equal(outcome.error.type, 'engine_unavailable')
    assert.equal(codeFor(outcome.error.type), 3)
  })

  test('an engine that gives up on one picture answers code 3, not a server error', async ({
    assert,
  }) => {
    const engine = fakeEngine()
    const recognition = await recognitionOn(engine)
    const opened = recognition.picture(image, 'image')
    if (!opened.ok) throw new Error('the engine is not running')

    engine.behaviour.detect = async () => {
      throw new PluginError('The engine did not finish a job within 5000 ms', 'E_ENGINE_WORKER')
    }
    assert.deepEqual(await opened.picture.detect(), {
      ok: false,
      error: {
        type: 'engine_unavailable',
        message: 'The engine did not finish a job within 5000 ms',
      },
    })

    engine.behaviour.detect = async () => {
      throw new TypeError('a bug')
    }
    await assert.rejects(() => opened.picture.detect(), TypeError)
  })
})
