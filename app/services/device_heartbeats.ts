import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import { toSqlDateTime } from '#services/sql_time'
import type { AgentHeartbeat } from '#terminal-client/agent_contracts'

const batchSize = 500

/** What is kept of a heartbeat: the state without the commands it reported done. */
export type AgentState = Omit<AgentHeartbeat, 'commandsDone'>

export type HeartbeatView = {
  state: AgentState
  receivedAt: DateTime
  /** Decisions have waited to be sent for longer than the alert allows. */
  backlogFlagged: boolean
  /** Unix milliseconds when the oldest unsent decision was made, as of the heartbeat. */
  oldestUnsentAt: DateTime | null
}

/** A heartbeat as Redis and memory hold it until it is written: `{ at, state }` as JSON. */
type Pending = { at: number; state: AgentState }

/**
 * The latest state each terminal agent reported. A heartbeat is one HSET
 * in Redis; the database gets the latest heartbeat of every device in
 * batched upserts a few seconds later (like last-seen times), so that
 * 65,536 agents beating every few seconds cost a few statements, not a
 * write each, and what the pages show survives a Redis restart as of the
 * last write. Pages read the database, overlaid with what Redis (and this
 * process, while Redis is down) holds that is newer.
 */
export class DeviceHeartbeats {
  static #timer: NodeJS.Timeout | null = null
  static #unsent = new Map<string, string>()

  #key = `${terminalConfig.keyspace}:heartbeats`

  async record(deviceId: number, state: AgentState, at = Date.now()) {
    const value = JSON.stringify({ at, state } satisfies Pending)
    try {
      await redis.hset(this.#key, String(deviceId), value)
    } catch {
      keepNewer(DeviceHeartbeats.#unsent, [[String(deviceId), value]])
    }
    if (DeviceHeartbeats.#timer) return
    DeviceHeartbeats.#timer = setTimeout(() => {
      DeviceHeartbeats.#timer = null
      this.flush().catch((error) => logger.warn({ err: error }, 'device heartbeat flush failed'))
    }, terminalConfig.presenceFlushSeconds * 1000)
    DeviceHeartbeats.#timer.unref()
  }

  /**
   * Writes every gathered heartbeat to the database, 500 devices a
   * statement; those a failed write could not store go back. Heartbeats of
   * devices deleted meanwhile are dropped.
   */
  async flush() {
    if (DeviceHeartbeats.#timer) clearTimeout(DeviceHeartbeats.#timer)
    DeviceHeartbeats.#timer = null
    const gathered = new Map(DeviceHeartbeats.#unsent)
    DeviceHeartbeats.#unsent.clear()
    try {
      const results = await redis.multi().hgetall(this.#key).del(this.#key).exec()
      keepNewer(gathered, Object.entries((results?.[0]?.[1] ?? {}) as Record<string, string>))
    } catch (error) {
      if (gathered.size === 0) throw error
      logger.warn({ err: error }, 'device heartbeats: writing only those held in memory')
    }
    const entries = [...gathered]
    for (let start = 0; start < entries.length; start += batchSize) {
      try {
        await this.#write(entries.slice(start, start + batchSize))
      } catch (error) {
        await this.#restore(entries.slice(start))
        throw error
      }
    }
    return { devices: entries.length }
  }

  /** The latest heartbeat of each device that ever sent one. */
  async of(deviceIds: number[]): Promise<Map<number, HeartbeatView>> {
    const views = new Map<number, HeartbeatView>()
    if (deviceIds.length === 0) return views
    const latest = new Map<string, string>()
    const rows = await db
      .from('device_heartbeats')
      .whereIn('device_id', deviceIds)
      .select('device_id', 'state', 'received_at')
    for (const row of rows) {
      const at = fromSql(row.received_at).toMillis()
      latest.set(String(row.device_id), JSON.stringify({ at, state: JSON.parse(row.state) }))
    }
    try {
      const fields = deviceIds.map(String)
      const held = await redis.hmget(this.#key, ...fields)
      keepNewer(
        latest,
        fields.flatMap((field, index) => (held[index] ? [[field, held[index]!] as const] : []))
      )
    } catch {}
    keepNewer(
      latest,
      deviceIds.flatMap((id) => {
        const value = DeviceHeartbeats.#unsent.get(String(id))
        return value ? [[String(id), value] as const] : []
      })
    )
    for (const [id, value] of latest) views.set(Number(id), view(JSON.parse(value) as Pending))
    return views
  }

  async #write(batch: [string, string][]) {
    const ids = batch.map(([id]) => Number(id))
    const existing = await db.from('devices').whereIn('id', ids).select('id')
    const known = new Set(existing.map((row) => Number(row.id)))
    const rows = batch.flatMap(([id, value]) => {
      if (!known.has(Number(id))) return []
      const pending = JSON.parse(value) as Pending
      return [
        {
          device_id: Number(id),
          state: JSON.stringify(pending.state),
          received_at: toSqlDateTime(new Date(pending.at)),
        },
      ]
    })
    if (rows.length === 0) return
    await db
      .table('device_heartbeats')
      .multiInsert(rows)
      .knexQuery.onConflict('device_id')
      .merge(['state', 'received_at'])
  }

  async #restore(entries: [string, string][]) {
    try {
      const pipeline = redis.pipeline()
      for (const [field, value] of entries) pipeline.hsetnx(this.#key, field, value)
      const results = await pipeline.exec()
      if (results?.every(([error]) => !error)) return
    } catch {}
    keepNewer(DeviceHeartbeats.#unsent, entries)
  }
}

function view(pending: Pending): HeartbeatView {
  const receivedAt = DateTime.fromMillis(pending.at)
  const age = pending.state.oldestUnsentAgeMs
  const oldestUnsentAt = age === null ? null : receivedAt.minus({ milliseconds: age })
  const alertMs = terminalConfig.agent.backlogAlertMinutes * 60_000
  return {
    state: pending.state,
    receivedAt,
    oldestUnsentAt,
    backlogFlagged: oldestUnsentAt !== null && Date.now() - oldestUnsentAt.toMillis() > alertMs,
  }
}

/** Adds heartbeats (`{ at, … }` JSON by device id) to `into`, keeping the newer of two. */
function keepNewer(into: Map<string, string>, heartbeats: Iterable<readonly [string, string]>) {
  for (const [field, value] of heartbeats) {
    const kept = into.get(field)
    if (!kept || atOf(kept) < atOf(value)) into.set(field, value)
  }
}

function atOf(value: string) {
  return (JSON.parse(value) as Pending).at
}

/** A timestamp as the database answers it (a string on SQLite, a Date on PostgreSQL). */
function fromSql(value: unknown) {
  if (value instanceof Date) return DateTime.fromJSDate(value)
  return DateTime.fromSQL(String(value))
}
