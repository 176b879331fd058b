import type { Logger } from '@adonisjs/core/logger'
import type { DriverFor, PluginHealth, PluginKind, PluginTimeouts } from '#plugin-host/contracts'
import type { Plugin } from '#plugin-host/define_plugin'
import { backoffDelay, type BackoffPolicy } from '#plugin-host/backoff'
import {
  PluginCommandError,
  PluginError,
  PluginTimeoutError,
  PluginUnavailableError,
} from '#plugin-host/errors'
import type { DoorEvent } from '#plugin-host/door_events'
import type { InstanceSpec } from '#plugin-host/instance_config'
import { withTimeout } from '#plugin-host/timeout'

const instanceStates = [
  'disabled',
  'misconfigured',
  'stopped',
  'starting',
  'running',
  'stopping',
  'degraded',
  'waiting_for_operator',
] as const
export type InstanceState = (typeof instanceStates)[number]

const retryableStates: InstanceState[] = ['degraded', 'waiting_for_operator']

export interface SupervisionPolicy {
  /** Host defaults; a plugin's own timeouts win. */
  timeouts: PluginTimeouts
  healthIntervalMs: number
  backoff: BackoffPolicy
  /** Failures in a row after which automatic retries stop. */
  maxFailures: number
  /**
   * How long a call waits for an instance that is starting, or that failed
   * and retries within that time, before it is refused; absent or 0
   * refuses it at once.
   */
  restartWaitMs?: number
}

export interface ErrorInfo {
  message: string
  code: string
  at: Date
}

export interface HealthInfo {
  status: PluginHealth['status']
  message: string | null
  at: Date
}

export interface InstanceStatus {
  id: string
  pluginId: string
  kind: PluginKind | null
  pluginVersion: string | null
  enabled: boolean
  state: InstanceState
  since: Date
  failures: number
  lastError: ErrorInfo | null
  lastHealth: HealthInfo | null
  nextRetryAt: Date | null
  retryable: boolean
}

export interface InstanceTransition {
  instanceId: string
  pluginId: string
  from: InstanceState
  to: InstanceState
  at: Date
  error: ErrorInfo | null
  retryInMs: number | null
}

/** A door event a driver reported, with the instance that reported it. */
export interface InstanceDoorEvent {
  instanceId: string
  pluginId: string
  event: DoorEvent
}

export type RetryResult =
  | { ok: true; state: InstanceState }
  | { ok: false; reason: 'unknown_instance' | 'not_retryable'; state: InstanceState | null }

function describeError(error: unknown): ErrorInfo {
  if (error instanceof PluginError)
    return { message: error.message, code: error.code, at: new Date() }
  if (error instanceof Error)
    return { message: error.message, code: 'E_PLUGIN_CRASH', at: new Date() }
  return { message: String(error), code: 'E_PLUGIN_CRASH', at: new Date() }
}

/**
 * One configured plugin instance and its lifecycle. Lifecycle steps run one
 * at a time (a health check never overlaps a restart), each under its
 * timeout. A failure stops the driver, then either schedules a retry with
 * backoff or, after `maxFailures` in a row, waits for an operator. The
 * failure count resets when a health check passes.
 *
 * `#generation` changes on every start attempt, stop and operator retry;
 * timers and slow calls carry the generation they were made in and are
 * ignored when it is stale.
 */
export class SupervisedInstance<Kind extends PluginKind = PluginKind> {
  readonly id: string
  readonly pluginId: string
  readonly enabled: boolean
  readonly plugin: Plugin<Kind> | null

  #state: InstanceState
  #since = new Date()
  #driver: DriverFor<Kind> | null = null
  #failures = 0
  #lastError: ErrorInfo | null
  #lastHealth: HealthInfo | null = null
  #nextRetryAt: Date | null = null
  #timer: NodeJS.Timeout | null = null
  #generation = 0
  #lock: Promise<void> = Promise.resolve()
  #timeouts: PluginTimeouts
  #transitions = new Set<() => void>()

  constructor(
    private spec: InstanceSpec,
    private policy: SupervisionPolicy,
    private logger: Logger,
    private report: (transition: InstanceTransition) => void,
    private reportDoor: (event: InstanceDoorEvent) => void = () => {}
  ) {
    this.id = spec.id
    this.pluginId = spec.pluginId
    this.enabled = spec.enabled
    this.plugin = spec.plugin as Plugin<Kind> | null
    this.#timeouts = { ...policy.timeouts, ...spec.plugin?.timeouts }
    this.#state = !spec.enabled ? 'disabled' : spec.problem ? 'misconfigured' : 'stopped'
    this.#lastError =
      spec.enabled && spec.problem
        ? { message: spec.problem, code: 'E_PLUGIN_CONFIG', at: new Date() }
        : null
  }

  get kind(): Kind | null {
    return this.plugin?.kind ?? null
  }

  /** Whether `spec` configures this instance exactly as it runs (same plugin, switch and config). */
  sameSpec(spec: InstanceSpec) {
    const key = ({ pluginId, enabled, config, problem }: InstanceSpec) =>
      JSON.stringify({ pluginId, enabled, config, problem })
    return key(spec) === key(this.spec)
  }

  get state() {
    return this.#state
  }

  status(): InstanceStatus {
    return {
      id: this.id,
      pluginId: this.pluginId,
      kind: this.kind,
      pluginVersion: this.plugin?.version ?? null,
      enabled: this.enabled,
      state: this.#state,
      since: this.#since,
      failures: this.#failures,
      lastError: this.#lastError,
      lastHealth: this.#lastHealth,
      nextRetryAt: this.#nextRetryAt,
      retryable: retryableStates.includes(this.#state),
    }
  }

  /**
   * Starts a stopped instance; resolves once the first attempt has
   * succeeded or failed. Disabled and misconfigured instances never start.
   */
  start() {
    if (this.#state !== 'stopped') return this.#lock
    const generation = this.#generation
    return this.#exclusive(() => this.#attempt(generation))
  }

  /**
   * Cancels pending retries and health checks and stops the driver if it
   * may be running.
   */
  stop() {
    this.#generation++
    this.#clearTimer()
    return this.#exclusive(() => this.#shutdown())
  }

  /**
   * An operator's retry of a degraded instance or one waiting for an
   * operator: the failure count starts again and an attempt runs now.
   */
  async retry(): Promise<RetryResult> {
    if (!retryableStates.includes(this.#state)) {
      return { ok: false, reason: 'not_retryable', state: this.#state }
    }
    const generation = ++this.#generation
    this.#clearTimer()
    this.#failures = 0
    await this.#exclusive(() => this.#attempt(generation))
    return { ok: true, state: this.#state }
  }

  /**
   * Whether a call now would be served: the instance runs, or it is
   * starting or retries within the policy's `restartWaitMs`, which a call
   * waits for.
   */
  get available() {
    return this.#state === 'running' || this.#restartingBy(Date.now() + this.#restartWaitMs)
  }

  /**
   * Runs one call on the driver under the call timeout. A call made while
   * the instance restarts waits for it up to `restartWaitMs`, so a restart
   * is a delay for callers rather than a failure. A call that times out is
   * taken as a hung device, so the instance restarts. A refused command is
   * the caller's mistake and is not recorded against the instance.
   */
  async use<T>(call: (driver: DriverFor<Kind>) => Promise<T>): Promise<T> {
    const driver = await this.#running()
    const generation = this.#generation
    try {
      return await withTimeout(`${this.id} call`, this.#timeouts.callMs, () => call(driver))
    } catch (error) {
      if (!(error instanceof PluginCommandError)) this.#lastError = describeError(error)
      if (error instanceof PluginTimeoutError) {
        void this.#exclusive(async () => {
          if (generation === this.#generation && this.#state === 'running') await this.#fail(error)
        })
      }
      throw error
    }
  }

  get #restartWaitMs() {
    return this.policy.restartWaitMs ?? 0
  }

  /**
   * The driver once the instance runs: at once, or after waiting for a
   * restart that is due before `restartWaitMs` has passed.
   */
  async #running() {
    const deadline = Date.now() + this.#restartWaitMs
    while (this.#state !== 'running' || !this.#driver) {
      const left = deadline - Date.now()
      if (left <= 0 || !this.#restartingBy(deadline)) {
        throw new PluginUnavailableError(this.id, this.#state)
      }
      await this.#nextTransition(left)
    }
    return this.#driver
  }

  /** Whether the instance is starting, or will start again by `deadline`. */
  #restartingBy(deadline: number) {
    if (this.#state === 'starting') return true
    return this.#state === 'degraded' && (this.#nextRetryAt?.getTime() ?? Infinity) <= deadline
  }

  #nextTransition(timeoutMs: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      const transitions = this.#transitions
      function done() {
        clearTimeout(timer)
        transitions.delete(done)
        resolve()
      }
      transitions.add(done)
    })
  }

  #exclusive(step: () => Promise<void>) {
    const run = this.#lock.then(step)
    this.#lock = run.catch((error) => {
      this.logger.error({ err: error, instance: this.id }, 'plugin supervision step failed')
    })
    return this.#lock
  }

  #transition(to: InstanceState, error: ErrorInfo | null = null, retryInMs: number | null = null) {
    const from = this.#state
    this.#state = to
    this.#since = new Date()
    for (const waiter of this.#transitions) waiter()
    this.report({
      instanceId: this.id,
      pluginId: this.pluginId,
      from,
      to,
      at: this.#since,
      error,
      retryInMs,
    })
  }

  /** A listener's mistake must not reach the driver that reported. */
  #reportDoor(event: DoorEvent) {
    try {
      this.reportDoor({ instanceId: this.id, pluginId: this.pluginId, event })
    } catch (error) {
      this.logger.error({ err: error, instance: this.id }, 'door event listener failed')
    }
  }

  #clearTimer() {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#nextRetryAt = null
  }

  #schedule(delayMs: number, step: (generation: number) => Promise<void>) {
    const generation = this.#generation
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.#exclusive(() => step(generation))
    }, delayMs)
    this.#timer.unref()
  }

  async #attempt(generation: number) {
    if (generation !== this.#generation) return
    const current = ++this.#generation
    this.#clearTimer()
    this.#transition('starting')

    try {
      this.#driver ??= this.plugin!.create({
        instanceId: this.id,
        config: this.spec.config,
        logger: this.logger.child({ plugin: this.pluginId, instance: this.id }),
        report: (event) => this.#reportDoor(event),
      })
      const driver = this.#driver
      await withTimeout(`${this.id} start`, this.#timeouts.startMs, () => driver.start())
    } catch (error) {
      if (current === this.#generation) await this.#fail(error)
      return
    }

    if (current !== this.#generation) return
    this.#transition('running')
    await this.#checkHealth(current)
  }

  async #checkHealth(generation: number) {
    if (generation !== this.#generation || this.#state !== 'running') return
    const driver = this.#driver!
    let health: PluginHealth
    try {
      health = await withTimeout(`${this.id} health`, this.#timeouts.healthMs, () =>
        driver.health()
      )
    } catch (error) {
      if (generation !== this.#generation) return
      this.#lastHealth = { status: 'error', message: describeError(error).message, at: new Date() }
      await this.#fail(error)
      return
    }

    if (generation !== this.#generation) return
    this.#lastHealth = { status: health.status, message: health.message ?? null, at: new Date() }
    if (health.status === 'error') {
      await this.#fail(
        new PluginError(health.message ?? 'The plugin reports an error', 'E_PLUGIN_UNHEALTHY')
      )
      return
    }
    this.#failures = 0
    this.#schedule(this.policy.healthIntervalMs, (next) => this.#checkHealth(next))
  }

  /**
   * The state changes before the driver stops, so that no call reaches a
   * driver that is stopping; calls made meanwhile wait for the retry.
   */
  async #fail(cause: unknown) {
    const error = describeError(cause)
    const generation = this.#generation
    this.#lastError = error
    this.#clearTimer()
    this.#failures++

    if (this.#failures >= this.policy.maxFailures) {
      this.#transition('waiting_for_operator', error)
      await this.#stopDriverQuietly()
      return
    }
    const delay = backoffDelay(this.#failures, this.policy.backoff)
    const retryAt = Date.now() + delay
    this.#nextRetryAt = new Date(retryAt)
    this.#transition('degraded', error, delay)
    await this.#stopDriverQuietly()
    if (generation !== this.#generation) return
    this.#schedule(Math.max(0, retryAt - Date.now()), (next) => this.#attempt(next))
    this.#nextRetryAt = new Date(retryAt)
  }

  /**
   * After a failure the driver may be half open; stopping it releases what
   * it holds. Its own stop error would only hide the failure being handled.
   */
  async #stopDriverQuietly() {
    const driver = this.#driver
    if (!driver) return
    await withTimeout(`${this.id} stop`, this.#timeouts.stopMs, () => driver.stop()).catch(() => {})
  }

  async #shutdown() {
    const driver = this.#driver
    if (driver && (this.#state === 'running' || this.#state === 'starting')) {
      this.#transition('stopping')
      try {
        await withTimeout(`${this.id} stop`, this.#timeouts.stopMs, () => driver.stop())
      } catch (error) {
        this.#lastError = describeError(error)
      }
      this.#transition('stopped')
    } else if (this.#state === 'starting' || retryableStates.includes(this.#state)) {
      this.#transition('stopped')
    }
  }
}
