import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import terminalConfig from '#config/terminal'
import { toSqlDateTime } from '#services/sql_time'

const batchSize = 500

/**
 * When and from where each terminal last called. Every call only sets one
 * field of a Redis hash; the database gets the latest sighting of each
 * device in batched UPDATEs, a few seconds after the first unflushed call
 * in this process. The hash is shared, so whichever process flushes writes
 * the sightings of all of them, and a process that stops leaves its
 * sightings for the next flush. While Redis is down, sightings wait in
 * this process's memory and reach the database with the next flush.
 */
export class DevicePresence {
  static #timer: NodeJS.Timeout | null = null
  /** Sightings Redis could not take, by device id, as the hash holds them. */
  static #unsent = new Map<string, string>()

  #key = `${terminalConfig.keyspace}:presence`

  async seen(deviceId: number, address: string, at = Date.now()) {
    try {
      await redis.hset(this.#key, String(deviceId), `${at}|${address}`)
    } catch {
      keepNewer(DevicePresence.#unsent, [[String(deviceId), `${at}|${address}`]])
    }
    if (DevicePresence.#timer) return
    DevicePresence.#timer = setTimeout(() => {
      DevicePresence.#timer = null
      this.flush().catch((error) => logger.warn({ err: error }, 'device presence flush failed'))
    }, terminalConfig.presenceFlushSeconds * 1000)
    DevicePresence.#timer.unref()
  }

  /**
   * Takes every gathered sighting out of Redis (and this process's memory)
   * and writes them: one UPDATE per 500 devices. Sightings a failed write
   * could not store go back, unless a newer one arrived meanwhile. Without
   * Redis, only the sightings in memory are written.
   */
  async flush() {
    if (DevicePresence.#timer) clearTimeout(DevicePresence.#timer)
    DevicePresence.#timer = null
    const gathered = new Map(DevicePresence.#unsent)
    DevicePresence.#unsent.clear()
    try {
      const results = await redis.multi().hgetall(this.#key).del(this.#key).exec()
      keepNewer(gathered, Object.entries((results?.[0]?.[1] ?? {}) as Record<string, string>))
    } catch (error) {
      if (gathered.size === 0) throw error
      logger.warn({ err: error }, 'device presence: writing only the sightings held in memory')
    }
    const entries = [...gathered]
    let statements = 0
    for (let start = 0; start < entries.length; start += batchSize) {
      const batch = entries.slice(start, start + batchSize)
      try {
        await this.#write(batch)
        statements++
      } catch (error) {
        await this.#restore(entries.slice(start))
        throw error
      }
    }
    return { devices: entries.length, statements }
  }

  async #write(batch: [string, string][]) {
    const rows = batch.map(([id, value]) => {
      const separator = value.indexOf('|')
      const at = new Date(Number(value.slice(0, separator)))
      return { id: Number(id), at: toSqlDateTime(at), address: value.slice(separator + 1) }
    })
    const timestamp = db.connection().dialect.name === 'postgres' ? 'cast(? as timestamptz)' : '?'
    const whens = (value: string) => rows.map(() => `when ? then ${value}`).join(' ')
    await db.rawQuery(
      `update devices set last_seen_at = case id ${whens(timestamp)} end, ` +
        `last_seen_address = case id ${whens('?')} end ` +
        `where id in (${rows.map(() => '?').join(', ')})`,
      [
        ...rows.flatMap((row) => [row.id, row.at]),
        ...rows.flatMap((row) => [row.id, row.address]),
        ...rows.map((row) => row.id),
      ]
    )
  }

  async #restore(entries: [string, string][]) {
    try {
      const pipeline = redis.pipeline()
      for (const [field, value] of entries) pipeline.hsetnx(this.#key, field, value)
      const results = await pipeline.exec()
      if (results?.every(([error]) => !error)) return
    } catch {}
    keepNewer(DevicePresence.#unsent, entries)
  }
}

/** Adds sightings ("<unix ms>|<address>" by device id) to `into`, keeping the newer of two. */
function keepNewer(into: Map<string, string>, sightings: Iterable<[string, string]>) {
  for (const [field, value] of sightings) {
    const kept = into.get(field)
    if (!kept || Number.parseInt(kept, 10) < Number.parseInt(value, 10)) into.set(field, value)
  }
}
