import logger from '@adonisjs/core/services/logger'
import redis from '@adonisjs/redis/services/main'
import app from '@adonisjs/core/services/app'
import terminalConfig from '#config/terminal'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { isRedisUnavailable } from '#services/redis_availability'

/** How a wait for a change ends. */
export type WaitOutcome =
  | { type: 'changed'; revision: number; pending: number }
  | { type: 'commands' }
  | { type: 'timeout' }
  | { type: 'unavailable' }

type Waiter = {
  deviceId: number
  deadline: number
  settle: (outcome: WaitOutcome) => void
}

const sweepEveryMs = 1000

/**
 * "Revision N is available", announced by the sync job over Redis to every
 * server process, and the devices waiting for it in this process.
 *
 * A process subscribes once, however many terminals wait. Waiters are kept
 * in memory by device, in one insertion-ordered set that a single sweep a
 * second ends at their deadlines (every wait has the same length, so the
 * set is in deadline order). On an announcement the waiting devices that
 * have changes pending are looked up in one query per few hundred and
 * answered; the others keep waiting. "Commands wait for device N" (an
 * operator's, see DeviceCommands) answers that device's waits at once,
 * without a query. While the subscription is down
 * (Redis away) nobody can be told of a change, so every waiter is answered
 * "unavailable" at once and new waits are refused until it is back.
 */
export class DeviceSyncNotices {
  #waiters = new Set<Waiter>()
  #byDevice = new Map<number, Set<Waiter>>()
  #sweeper: NodeJS.Timeout | null = null
  #subscribing: Promise<boolean> | null = null
  #subscribed = false
  #watching = false

  get waiting() {
    return this.#waiters.size
  }

  async publish(revision: number) {
    await redis.publish(terminalConfig.deviceSyncChannel, JSON.stringify({ revision }))
  }

  /** "A command waits for device N": its waiting call, in whichever process, answers at once. */
  async publishCommands(deviceId: number) {
    await redis.publish(terminalConfig.deviceSyncChannel, JSON.stringify({ commandsFor: deviceId }))
  }

  /**
   * Whether this process hears announcements: subscribes on first use and
   * waits for Redis to confirm; false at once while the subscriber
   * connection is down.
   */
  async listening() {
    if (this.#subscribed) return redis.connection().ioSubscriberConnection?.status === 'ready'
    this.#subscribing ??= this.#subscribe()
    return this.#subscribing
  }

  /**
   * Waits for a change that concerns the device, at most `waitMs`.
   * `cancel` ends the wait without an answer (the terminal hung up).
   */
  wait(deviceId: number, waitMs: number) {
    let waiter!: Waiter
    const outcome = new Promise<WaitOutcome>((resolve) => {
      waiter = {
        deviceId,
        deadline: Date.now() + waitMs,
        settle: (result) => {
          this.#forget(waiter)
          resolve(result)
        },
      }
    })
    this.#waiters.add(waiter)
    if (!this.#byDevice.has(deviceId)) this.#byDevice.set(deviceId, new Set())
    this.#byDevice.get(deviceId)!.add(waiter)
    this.#sweeper ??= setInterval(() => this.#sweep(), sweepEveryMs)
    return { outcome, cancel: () => this.#forget(waiter), settle: waiter.settle }
  }

  #forget(waiter: Waiter) {
    if (!this.#waiters.delete(waiter)) return
    const ofDevice = this.#byDevice.get(waiter.deviceId)
    ofDevice?.delete(waiter)
    if (ofDevice?.size === 0) this.#byDevice.delete(waiter.deviceId)
    if (this.#waiters.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper)
      this.#sweeper = null
    }
  }

  #sweep() {
    const now = Date.now()
    for (const waiter of this.#waiters) {
      if (waiter.deadline > now) break
      waiter.settle({ type: 'timeout' })
    }
  }

  #settleAll(outcome: WaitOutcome) {
    for (const waiter of [...this.#waiters]) waiter.settle(outcome)
  }

  #subscribe() {
    const connection = redis.connection()
    if (!this.#watching) {
      this.#watching = true
      // A server shutting down answers its waiters, which call again (elsewhere, or once it is back).
      app.terminating(() => this.#settleAll({ type: 'timeout' }))
      connection.on('subscriber:close', () => this.#settleAll({ type: 'unavailable' }))
      connection.on('subscriber:error', () => this.#settleAll({ type: 'unavailable' }))
    }
    return new Promise<boolean>((resolve) => {
      connection.subscribe(terminalConfig.deviceSyncChannel, this.#onMessage, {
        onSubscription: () => {
          this.#subscribed = true
          resolve(true)
        },
        onError: (error) => {
          if (!isRedisUnavailable(error)) {
            logger.warn({ err: error }, 'device sync announcements unavailable')
          }
          this.#subscribing = null
          resolve(false)
        },
      })
    })
  }

  #onMessage = (message: string) => {
    const commandsFor = parseCommandsFor(message)
    if (commandsFor !== null) {
      for (const waiter of [...(this.#byDevice.get(commandsFor) ?? [])]) {
        waiter.settle({ type: 'commands' })
      }
      return
    }
    const revision = parseRevision(message)
    if (revision === null || this.#byDevice.size === 0) return
    this.#wake(revision).catch((error) => {
      logger.warn({ err: error }, 'waiting devices not told of a new face-database revision')
    })
  }

  async #wake(revision: number) {
    const ledger = await app.container.make(DeviceSyncLedger)
    const behind = await ledger.behind([...this.#byDevice.keys()])
    for (const [deviceId, pending] of behind) {
      for (const waiter of [...(this.#byDevice.get(deviceId) ?? [])]) {
        waiter.settle({ type: 'changed', revision, pending })
      }
    }
  }
}

function parseRevision(message: string) {
  try {
    const value = JSON.parse(message) as { revision?: unknown }
    return Number.isSafeInteger(value.revision) ? (value.revision as number) : null
  } catch {
    return null
  }
}

function parseCommandsFor(message: string) {
  try {
    const value = JSON.parse(message) as { commandsFor?: unknown }
    return Number.isSafeInteger(value.commandsFor) ? (value.commandsFor as number) : null
  } catch {
    return null
  }
}

/** The one instance of the process: one subscription, one set of waiters. */
export const deviceSyncNotices = new DeviceSyncNotices()
