import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync } from 'node:fs'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { inTransaction, openAgentDatabase, type AgentDatabase } from '#terminal-client/agent_store'
import {
  FacesApiClient,
  FacesApiError,
  type DeviceIdentity,
  type FacesApiAnswer,
  type FacesApiFile,
} from '#terminal-client/faces_api_client'

/** A decision the agent made at the door, as it is stored and reported. */
export type AgentDecision = {
  /** The agent's own id for it (made here when absent); the server records it once per id. */
  id?: string
  /** When it was made; now when absent. */
  at?: Date
  decision: 'granted' | 'denied'
  reason: string
  username?: string | null
  /** The person's name as the agent showed it; "unknown" for a stranger. */
  name?: string | null
  score?: number | null
  method: string
  /** The JPEG of the passage. */
  snapshot?: Uint8Array | null
}

export type OutboxOptions = {
  /** The agent's database file; snapshots are kept in `<file>-snapshots/` next to it. */
  databasePath: string
  serverUrl: string
  device: DeviceIdentity
  /** Bytes the snapshots may take; the oldest are shed beyond it (default 512 MiB). */
  snapshotBudgetBytes?: number
  /** How long sent and refused reports are kept (default 30 days). */
  retentionMs?: number
  /** One report's time limit, token call included (default 15 s). */
  requestTimeoutMs?: number
  /** First retry delay, doubled per failed attempt up to `maxBackoffMs` (default 500 ms). */
  baseBackoffMs?: number
  /** Longest wait between attempts, a server's Retry-After included (default 60 s). */
  maxBackoffMs?: number
  fetch?: typeof fetch
}

export type OutboxHealth = {
  /** Decisions stored and not yet accepted by the server. */
  backlog: number
  /** Age of the oldest of them, in milliseconds; null when the backlog is empty. */
  oldestUnsentAgeMs: number | null
  /** Reports the server refused for good (kept with the reason, not retried). */
  refused: number
  lastError: string | null
  lastErrorAt: Date | null
  lastSentAt: Date | null
  /** When the report at the head of the backlog is tried again; null when not waiting. */
  nextAttemptAt: Date | null
  /** Snapshots deleted, oldest first, to stay within the disk budget (their events are kept). */
  shedSnapshots: number
  snapshotBytes: number
}

type Row = {
  seq: number
  id: string
  occurred_at: number
  reason: string
  username: string | null
  name: string | null
  score: number | null
  snapshot_file: string | null
  attempts: number
}

/** Codes that say something is wrong with this one report: it will never be accepted as it is. */
const refusedForGood = new Set([2, 9002, 9005])
/** Codes that refuse the snapshot, not the event: the event is sent without it. */
const snapshotRefused = new Set([9113, 69640, 69642])

/**
 * Store-and-forward of the agent's decisions. `record` stores a decision
 * (its snapshot file written and synced, then its row) and returns; a
 * sender reports the backlog with clinetFeedback oldest first, one at a
 * time, marking a report sent only once the server answered 0. Network
 * errors, time-outs, an unavailable server (9007/503, rate limits) and
 * device-wide refusals are retried with capped exponential back-off
 * (honouring Retry-After) without reordering; a report the server refuses
 * for good is kept as refused with the reason and the rest go on. Every
 * report carries the decision's id as `eventId`, so a report whose answer
 * was lost is recorded once when it is sent again.
 */
export class AgentOutbox {
  readonly db: AgentDatabase
  readonly snapshotDir: string
  #options: Required<Omit<OutboxOptions, 'fetch'>> & { fetch: typeof fetch }
  #running = false
  #loop: Promise<void> | null = null
  #wake: (() => void) | null = null
  #lastError: string | null = null
  #lastErrorAt: Date | null = null
  #lastSentAt: Date | null = null
  #nextAttemptAt: Date | null = null
  /** Waiting out a backoff after a failure the server did not ask to be waited out. */
  #backingOff = false
  #recording = Promise.resolve()

  constructor(options: OutboxOptions) {
    this.#options = {
      snapshotBudgetBytes: 512 * 1024 * 1024,
      retentionMs: 30 * 24 * 3600_000,
      requestTimeoutMs: 15_000,
      baseBackoffMs: 500,
      maxBackoffMs: 60_000,
      ...options,
      fetch: options.fetch ?? fetch,
    }
    this.db = openAgentDatabase(options.databasePath)
    this.snapshotDir = `${options.databasePath}-snapshots`
    mkdirSync(this.snapshotDir, { recursive: true, mode: 0o700 })
    this.#sweepOrphans()
  }

  /**
   * Stores the decision durably and returns its id; it is sent in the
   * background. Decisions are stored in the order of the calls.
   */
  record(decision: AgentDecision): Promise<string> {
    const stored = this.#recording.then(() => this.#store(decision))
    this.#recording = stored.then(
      () => undefined,
      () => undefined
    )
    return stored
  }

  async #store(decision: AgentDecision) {
    const id = decision.id ?? timeOrderedId()
    let file: string | null = null
    let bytes = 0
    if (decision.snapshot && decision.snapshot.byteLength > 0) {
      bytes = decision.snapshot.byteLength
      if (bytes <= this.#options.snapshotBudgetBytes) {
        file = `${id}.jpg`
        await writeDurably(join(this.snapshotDir, file), decision.snapshot)
      }
    }
    const shedNow = decision.snapshot && decision.snapshot.byteLength > 0 && file === null
    try {
      const toDelete = inTransaction(this.db, () => {
        const victims = file ? this.#shed(bytes) : []
        this.db
          .prepare(
            `insert into decisions (id, occurred_at, decision, reason, username, name, score,
               method, snapshot_file, snapshot_bytes, snapshot_shed)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
          )
          .run(
            id,
            (decision.at ?? new Date()).getTime(),
            decision.decision,
            decision.reason,
            decision.username ?? null,
            decision.name ?? null,
            decision.score ?? null,
            decision.method,
            file,
            file ? bytes : 0,
            shedNow ? 1 : 0
          )
        if (shedNow) this.#countShed(1)
        return victims
      })
      await Promise.all(
        toDelete.map((victim) => rm(join(this.snapshotDir, victim), { force: true }))
      )
    } catch (error) {
      if (file) await rm(join(this.snapshotDir, file), { force: true })
      throw error
    }
    this.#wake?.()
    return id
  }

  /**
   * Frees room for `incoming` more bytes of snapshots: the oldest
   * snapshots of reports already sent (or refused) go first, then the
   * oldest unsent ones; their rows stay. Returns the files to delete once
   * the transaction committed.
   */
  #shed(incoming: number): string[] {
    let used = this.#snapshotBytes()
    const budget = this.#options.snapshotBudgetBytes
    if (used + incoming <= budget) return []
    const candidates = this.db
      .prepare(
        `select seq, snapshot_file, snapshot_bytes from decisions where snapshot_file is not null
         order by case when state = 'pending' then 1 else 0 end, seq`
      )
      .all() as { seq: number; snapshot_file: string; snapshot_bytes: number }[]
    const files: string[] = []
    const clear = this.db.prepare(
      `update decisions set snapshot_file = null, snapshot_bytes = 0, snapshot_shed = 1 where seq = ?`
    )
    const chosen: { seq: number; file: string }[] = []
    for (const row of candidates) {
      if (used + incoming <= budget) break
      chosen.push({ seq: row.seq, file: row.snapshot_file })
      used -= row.snapshot_bytes
    }
    for (const victim of chosen) {
      clear.run(victim.seq)
      files.push(victim.file)
    }
    this.#countShed(files.length)
    return files
  }

  #countShed(count: number) {
    if (count === 0) return
    this.db
      .prepare(
        `insert into counters (name, value) values ('shed_snapshots', ?)
         on conflict (name) do update set value = value + excluded.value`
      )
      .run(count)
  }

  #snapshotBytes() {
    return (
      this.db.prepare(`select coalesce(sum(snapshot_bytes), 0) as n from decisions`).get() as {
        n: number
      }
    ).n
  }

  /** Starts sending the backlog in the background. */
  start() {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /**
   * The server answered another call (a heartbeat, the offline probe):
   * the backoff after a network failure ends now, so that a backlog goes
   * out as soon as the server is back rather than up to a minute later.
   * A wait the server asked for (Retry-After) is kept.
   */
  retryNow() {
    if (this.#backingOff) this.#wake?.()
  }

  /** Stops sending (a report under way is finished or abandoned, and stays unsent). */
  async stop() {
    this.#running = false
    this.#wake?.()
    await this.#loop
    this.#loop = null
  }

  async close() {
    await this.stop()
    await this.#recording
    this.db.close()
  }

  /** Resolves once nothing is left to send, or rejects after `timeoutMs`. */
  async drained(timeoutMs = 600_000) {
    const deadline = Date.now() + timeoutMs
    while (this.health().backlog > 0) {
      if (Date.now() > deadline) throw new Error('the backlog did not drain in time')
      await sleep(100)
    }
  }

  health(): OutboxHealth {
    const pending = this.db
      .prepare(
        `select count(*) as n, min(occurred_at) as oldest from decisions where state = 'pending'`
      )
      .get() as { n: number; oldest: number | null }
    const refused = this.db
      .prepare(`select count(*) as n from decisions where state = 'failed'`)
      .get() as { n: number }
    return {
      backlog: pending.n,
      oldestUnsentAgeMs: pending.oldest === null ? null : Math.max(0, Date.now() - pending.oldest),
      refused: refused.n,
      lastError: this.#lastError,
      lastErrorAt: this.#lastErrorAt,
      lastSentAt: this.#lastSentAt,
      nextAttemptAt: this.#nextAttemptAt,
      shedSnapshots: this.shedCount(),
      snapshotBytes: this.#snapshotBytes(),
    }
  }

  /** How many snapshots were shed to stay within the budget, for the heartbeat. */
  shedCount() {
    const row = this.db
      .prepare(`select value from counters where name = 'shed_snapshots'`)
      .get() as { value: number } | undefined
    return row?.value ?? 0
  }

  /** Deletes sent and refused reports (and their snapshots) older than the retention. */
  async prune(now = Date.now()) {
    const cutoff = now - this.#options.retentionMs
    const files = inTransaction(this.db, () => {
      const old = this.db
        .prepare(
          `select snapshot_file from decisions where state <> 'pending' and occurred_at < ?
           and snapshot_file is not null`
        )
        .all(cutoff)
        .map((row) => (row as { snapshot_file: string }).snapshot_file)
      this.db
        .prepare(`delete from decisions where state <> 'pending' and occurred_at < ?`)
        .run(cutoff)
      return old
    })
    await Promise.all(files.map((file) => rm(join(this.snapshotDir, file), { force: true })))
    return files.length
  }

  async #run() {
    let lastPrune = 0
    while (this.#running) {
      if (Date.now() - lastPrune > 3600_000) {
        lastPrune = Date.now()
        await this.prune()
      }
      const head = this.db
        .prepare(
          `select seq, id, occurred_at, reason, username, name, score, snapshot_file, attempts
           from decisions where state = 'pending' order by seq limit 1`
        )
        .get() as Row | undefined
      if (!head) {
        await this.#idle(60_000)
        continue
      }
      const outcome = await this.#send(head)
      if (!this.#running && outcome.kind === 'retry') break
      if (outcome.kind === 'sent') {
        this.db
          .prepare(
            `update decisions set state = 'sent', sent_at = ?, server_event_id = ?,
               attempts = attempts + 1, last_error = null where seq = ?`
          )
          .run(Date.now(), outcome.serverEventId, head.seq)
        this.#lastSentAt = new Date()
        this.#nextAttemptAt = null
      } else if (outcome.kind === 'refused') {
        this.db
          .prepare(
            `update decisions set state = 'failed', attempts = attempts + 1, last_error = ? where seq = ?`
          )
          .run(outcome.reason, head.seq)
        this.#noteError(`${head.id}: ${outcome.reason}`)
      } else {
        this.db
          .prepare(`update decisions set attempts = attempts + 1, last_error = ? where seq = ?`)
          .run(outcome.reason, head.seq)
        this.#noteError(outcome.reason)
        const backoff = Math.min(
          this.#options.maxBackoffMs,
          this.#options.baseBackoffMs * 2 ** Math.min(head.attempts, 20)
        )
        const asked = outcome.retryAfterMs ?? 0
        const wait = Math.min(this.#options.maxBackoffMs, Math.max(asked, jitter(backoff)))
        this.#nextAttemptAt = new Date(Date.now() + wait)
        this.#backingOff = asked === 0
        await this.#idle(wait)
        this.#backingOff = false
        this.#nextAttemptAt = null
      }
    }
  }

  #noteError(reason: string) {
    this.#lastError = reason
    this.#lastErrorAt = new Date()
  }

  /** Waits `ms`, or less when a decision is recorded or the outbox stops. */
  #idle(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const wake = () => done()
      this.#wake = wake
      function done() {
        clearTimeout(timer)
        resolve()
      }
    }).finally(() => {
      this.#wake = null
    })
  }

  async #send(
    row: Row
  ): Promise<
    | { kind: 'sent'; serverEventId: number | null }
    | { kind: 'refused'; reason: string }
    | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  > {
    let snapshot: Buffer | null = null
    if (row.snapshot_file) {
      snapshot = await readFile(join(this.snapshotDir, row.snapshot_file)).catch(() => null)
    }
    const first = await this.#report(row, snapshot)
    if (first.kind === 'snapshot_refused') {
      const second = await this.#report(row, null)
      return second.kind === 'snapshot_refused'
        ? { kind: 'refused', reason: second.reason }
        : second
    }
    return first
  }

  async #report(row: Row, snapshot: Buffer | null) {
    const seen: { status: number | null; retryAfter: string | null } = {
      status: null,
      retryAfter: null,
    }
    const signal = AbortSignal.timeout(this.#options.requestTimeoutMs)
    const timedFetch: typeof fetch = async (input, init) => {
      const response = await this.#options.fetch(input, { ...init, signal })
      seen.status = response.status
      seen.retryAfter = response.headers.get('retry-after')
      return response
    }
    const client = new FacesApiClient(this.#options.serverUrl, this.#options.device, {
      fetch: timedFetch,
    })
    const files: Record<string, FacesApiFile> | undefined = snapshot
      ? { image: { data: snapshot, filename: `${row.id}.jpg`, contentType: 'image/jpeg' } }
      : undefined
    let answer: FacesApiAnswer
    try {
      answer = await client.callWithToken(
        'clinetFeedback',
        {
          faceName: row.name || 'unknown',
          username: row.username ?? undefined,
          time: Math.floor(row.occurred_at / 1000),
          score: row.score ?? undefined,
          eventId: row.id,
          refusal: row.reason === 'spoof' ? 'spoof' : undefined,
        },
        { files }
      )
    } catch (error) {
      const reason =
        error instanceof FacesApiError
          ? `token: ${error.message}`
          : `${seen.status ? `HTTP ${seen.status}` : 'network'}: ${(error as Error).message}`
      return { kind: 'retry' as const, reason, retryAfterMs: retryAfterMs(seen.retryAfter) }
    }
    const reason = `clinetFeedback answered ${answer.code}: ${answer.message}`
    if (answer.code === 0) {
      const serverEventId = typeof answer.eventId === 'number' ? answer.eventId : null
      return { kind: 'sent' as const, serverEventId }
    }
    if (snapshot && snapshotRefused.has(answer.code)) {
      return { kind: 'snapshot_refused' as const, reason }
    }
    if (refusedForGood.has(answer.code) || snapshotRefused.has(answer.code)) {
      return { kind: 'refused' as const, reason }
    }
    return { kind: 'retry' as const, reason, retryAfterMs: retryAfterMs(seen.retryAfter) }
  }

  /**
   * Removes what a crash between writing a snapshot and storing its row
   * left behind: half-written files and files no row names.
   */
  #sweepOrphans() {
    const named = new Set(
      this.db
        .prepare(`select snapshot_file from decisions where snapshot_file is not null`)
        .all()
        .map((row) => (row as { snapshot_file: string }).snapshot_file)
    )
    for (const file of readdirSync(this.snapshotDir)) {
      if (!named.has(file)) void rm(join(this.snapshotDir, file), { force: true })
    }
  }
}

/** Writes `data` to `path` so that it is complete on disk or absent, even across a power cut. */
async function writeDurably(path: string, data: Uint8Array) {
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`
  const handle = await open(partial, 'w', 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(partial, path)
  const folder = await open(dirname(path), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** A UUIDv7: sorts by the time it was made, unique without coordination. */
export function timeOrderedId() {
  const bytes = randomBytes(16)
  const now = BigInt(Date.now())
  for (let index = 0; index < 6; index++) {
    bytes[index] = Number((now >> BigInt(8 * (5 - index))) & 0xffn)
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function retryAfterMs(header: string | null) {
  if (!header) return null
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

/** Between half and all of `ms`, so that terminals cut off together do not retry together. */
function jitter(ms: number) {
  return ms / 2 + Math.random() * (ms / 2)
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
