import type { AgentDatabase } from '#terminal-client/agent_store'
import type { AgentCommand } from '#terminal-client/agent_contracts'
import {
  FacesApiClient,
  type DeviceIdentity,
  type FacesApiAnswer,
} from '#terminal-client/faces_api_client'
import {
  applyBatch,
  batchOf,
  syncState,
  UnusableAnswer,
  type SyncBatch,
} from '#terminal-client/offline/offline_copy'

export type FaceSyncLogger = {
  info(detail: object, message: string): void
  warn(detail: object, message: string): void
}

export type FaceSyncOptions = {
  db: AgentDatabase
  serverUrl: string
  device: DeviceIdentity
  /** Called after each batch is applied (the decider reloads there). */
  onSynced?: (batch: SyncBatch) => void
  /** Commands an operator gave the device, as a syncEvents answer carries them. */
  onCommands?: (commands: AgentCommand[]) => void | Promise<void>
  logger?: FaceSyncLogger
  /** A getDbs call's time limit, token included (default 60 s: a full copy can be large). */
  requestTimeoutMs?: number
  /** A syncEvents call's time limit; above the server's wait (default 25 s) and any proxy's. */
  waitTimeoutMs?: number
  /** First retry delay, doubled per failure up to `maxBackoffMs` (default 500 ms). */
  baseBackoffMs?: number
  /** Longest wait between attempts (default 60 s). */
  maxBackoffMs?: number
  fetch?: typeof fetch
}

/** Asked to stop, or to give up a wait for another call. */
class Interrupted extends Error {}

const quiet: FaceSyncLogger = { info() {}, warn() {} }

/**
 * Keeps the agent's copy of the site's data current. It fetches getDbs
 * with `since` = the revision held (everything the first time, or when
 * the server answers `full`), applies additions, changes and removals in
 * one transaction, then holds syncEvents open with that revision (which
 * acknowledges it) until the server says a change concerns the device.
 *
 * The copy is only ever replaced by a complete answer: while the server
 * is away, or answers something unusable, the agent keeps deciding with
 * what it holds and tries again with capped exponential backoff. The
 * revision is in the agent's database, so a restart goes on from it.
 */
export class FaceSync {
  readonly #options: Required<Omit<FaceSyncOptions, 'onSynced' | 'onCommands' | 'fetch'>> &
    Pick<FaceSyncOptions, 'onSynced' | 'onCommands'>
  readonly #transport: typeof fetch
  #stopping = new AbortController()
  /** The syncEvents call waiting, which `syncNow` ends to fetch at once. */
  #listening: AbortController | null = null
  #loop: Promise<void> | null = null
  #wake: (() => void) | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #failures = 0
  /** `syncNow` calls waiting for the line: a syncEvents wait would only hold them up. */
  #syncsAsked = 0
  /** The revision a refusal of ours made us fetch everything at; refused again, it is a fault. */
  #refetchedAt: number | null = null
  #fetchWanted = true
  #fullWanted = false
  #lastError: string | null = null
  #lastErrorAt: Date | null = null

  constructor(options: FaceSyncOptions) {
    this.#options = {
      logger: quiet,
      requestTimeoutMs: 60_000,
      waitTimeoutMs: 90_000,
      baseBackoffMs: 500,
      maxBackoffMs: 60_000,
      ...options,
    }
    this.#transport = options.fetch ?? fetch
  }

  /** The revision held; null before the first sync. */
  get revision() {
    return syncState(this.#options.db).revision
  }

  /** When the copy was last brought up to date; null before the first sync. */
  get lastSyncAt() {
    const { syncedAt } = syncState(this.#options.db)
    return syncedAt === null ? null : new Date(syncedAt)
  }

  get lastError() {
    return { message: this.#lastError, at: this.#lastErrorAt }
  }

  /** Starts keeping the copy current, in the background, until `stop`. */
  start() {
    if (this.#loop) return
    this.#loop = this.#run()
  }

  async stop() {
    this.#stopping.abort()
    this.#wake?.()
    await this.#loop
    this.#loop = null
    this.#stopping = new AbortController()
  }

  /**
   * Fetches what changed now (an operator's "sync now"), and resolves once
   * it is applied; rejects when the server cannot be reached or answers
   * something unusable, the copy left as it was.
   */
  async syncNow(): Promise<SyncBatch> {
    this.#syncsAsked++
    this.#listening?.abort()
    try {
      return await this.#serial(() => this.#fetchOnce())
    } finally {
      this.#syncsAsked--
    }
  }

  async #run() {
    while (!this.#stopping.signal.aborted) {
      try {
        if (this.#fetchWanted) {
          await this.#serial(() => this.#fetchOnce())
          this.#fetchWanted = false
        }
        await this.#serial(() => this.#listen())
        this.#failures = 0
      } catch (error) {
        if (this.#stopping.signal.aborted) break
        if (error instanceof Interrupted) continue
        this.#failed(error)
        await this.#pause(this.#backoff(error))
      }
    }
  }

  /** One syncEvents call: the acknowledgement, and the wait for a change that concerns us. */
  async #listen() {
    if (this.#syncsAsked > 0) return
    const revision = syncState(this.#options.db).revision ?? 0
    const listening = new AbortController()
    this.#listening = listening
    const answer = await this.#call(
      this.#options.waitTimeoutMs,
      (client) =>
        client.callWithToken('syncEvents', {
          deviceName: this.#options.device.deviceName,
          deviceSN: this.#options.device.serialNumber,
          revision,
        }),
      listening.signal
    ).finally(() => {
      if (this.#listening === listening) this.#listening = null
    })
    if (Array.isArray(answer.commands) && answer.commands.length > 0) {
      await this.#passOn(answer.commands as AgentCommand[])
    }
    if (answer.code === 0) {
      if (answer.changed === true) this.#fetchWanted = true
      return
    }
    if (answer.code === 2 && revision > 0 && this.#refetchedAt !== revision) {
      // The server holds an older revision than ours (restored from a backup): start again.
      this.#options.logger.warn({ revision, answer }, 'server revision behind ours; fetching all')
      this.#refetchedAt = revision
      this.#fullWanted = true
      this.#fetchWanted = true
      return
    }
    throw new ServerRefused(answer)
  }

  async #passOn(commands: AgentCommand[]) {
    try {
      await this.#options.onCommands?.(commands)
    } catch (error) {
      this.#options.logger.warn({ err: error, commands }, 'commands not carried out')
    }
  }

  async #fetchOnce() {
    const { db, logger } = this.#options
    const held = syncState(db).revision
    const since = this.#fullWanted || held === null ? undefined : held
    const answer = await this.#call(this.#options.requestTimeoutMs, (client) =>
      client.getDbs(since)
    )
    if (answer.code !== 0) throw new ServerRefused(answer)
    const batch = batchOf(answer)
    if (batch.skipped.length > 0) {
      logger.warn({ skipped: batch.skipped }, 'faces left out of the copy')
    }
    applyBatch(db, batch)
    this.#fullWanted = false
    this.#failures = 0
    logger.info(
      {
        revision: batch.revision,
        full: batch.full,
        people: batch.people.length,
        removed: batch.removed.length,
      },
      'face database synced'
    )
    this.#options.onSynced?.(batch)
    return batch
  }

  /** A call with its own time limit, which `stop` (and `interrupt`) end early. */
  async #call(
    timeoutMs: number,
    send: (client: FacesApiClient) => Promise<FacesApiAnswer>,
    interrupt?: AbortSignal
  ): Promise<FacesApiAnswer> {
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const end = () => controller.abort()
    const causes = [this.#stopping.signal, ...(interrupt ? [interrupt] : [])]
    for (const cause of causes) cause.addEventListener('abort', end, { once: true })
    if (causes.some((cause) => cause.aborted)) end()
    const transport = this.#transport
    const client = new FacesApiClient(this.#options.serverUrl, this.#options.device, {
      fetch: (url, init) => transport(url, { ...init, signal: controller.signal }),
    })
    try {
      return await send(client)
    } catch (error) {
      if (timedOut) throw new Error(`no answer within ${timeoutMs} ms`)
      if (controller.signal.aborted) throw new Interrupted('interrupted')
      throw error
    } finally {
      clearTimeout(timer)
      for (const cause of causes) cause.removeEventListener('abort', end)
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work)
    this.#queue = next.catch(() => undefined)
    return next
  }

  #failed(error: unknown) {
    this.#failures++
    this.#lastError = error instanceof Error ? error.message : String(error)
    this.#lastErrorAt = new Date()
    const unusable = error instanceof UnusableAnswer
    this.#options.logger.warn(
      { err: error, failures: this.#failures },
      unusable ? 'unusable getDbs answer; copy kept' : 'face sync failed; deciding from the copy'
    )
  }

  #backoff(error: unknown) {
    const { baseBackoffMs, maxBackoffMs } = this.#options
    const retryAfter = error instanceof ServerRefused ? error.retryAfterMs : null
    const exponential = baseBackoffMs * 2 ** Math.min(this.#failures - 1, 20)
    const jitter = 0.8 + Math.random() * 0.4
    return Math.min(maxBackoffMs, Math.max(retryAfter ?? 0, exponential * jitter))
  }

  #pause(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    }).finally(() => (this.#wake = null))
  }
}

/** The server answered with a code other than success. */
export class ServerRefused extends Error {
  /** From an unavailable server (9007), which asks terminals to come back in a few seconds. */
  readonly retryAfterMs: number | null

  constructor(readonly answer: FacesApiAnswer) {
    super(`${answer.flag} answered ${answer.code}: ${answer.message}`)
    this.retryAfterMs = answer.code === 9007 ? 5_000 : null
  }
}
