import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import terminalConfig from '#config/terminal'
import { toSqlDateTime } from '#services/sql_time'

const batchSize = 500

/** A device's latest call: when (unix milliseconds) and from which address. */
export type Sighting = { at: number; address: string }

/**
 * When and from where each terminal last called. Every call sets one
 * field of two Redis hashes in one round trip: the sightings not yet in
 * the database, and the latest sighting of every device, which the admin
 * pages read to tell which devices are online. The database gets the
 * latest sighting of each device in batched UPDATEs, a few seconds after
 * the first unflushed call in this process. The hashes are shared, so
 * whichever process flushes writes the sightings of all of them, and a
 * process that stops leaves its sightings for the next flush. While Redis
 * is down, sightings wait in this process's memory and reach the database
 * with the next flush.
 */
export class DevicePresence {
  static #timer: NodeJS.Timeout | null = null
  /** Sightings Redis could not take, by device id, as the hash holds them. */
  static #unsent = new Map<string, string>()

  #key = `${terminalConfig.keyspace}:presence`
  #latestKey = `${terminalConfig.keyspace}:presence:latest`

  async seen(deviceId: number, address: string, at = Date.now()) {
    const field = String(deviceId)
    const value = `${at}|${address}`
    try {
      const results = await redis
        .multi()
        .hset(this.#key, field, value)
        .hset(this.#latestKey, field, value)
        .exec()
      const failed = results?.find(([error]) => error)
      if (!results || failed) throw failed?.[0] ?? new Error('presence not recorded')
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

  /**
   * The latest sighting of every device that called since Redis last
   * started, with this process's sightings Redis could not take. Throws
   * while Redis is down.
   */
  async latest(): Promise<Map<number, Sighting>> {
    const stored = await redis.hgetall(this.#latestKey)
    const gathered = new Map(Object.entries(stored))
    keepNewer(gathered, DevicePresence.#unsent)
    const sightings = new Map<number, Sighting>()
    for (const [id, value] of gathered) sightings.set(Number(id), parseSighting(value))
    return sightings
  }

  /** Drops what is known of a deleted device's calls. */
  async forget(deviceId: number) {
    DevicePresence.#unsent.delete(String(deviceId))
    await redis
      .multi()
      .hdel(this.#key, String(deviceId))
      .hdel(this.#latestKey, String(deviceId))
      .exec()
  }

  async #write(batch: [string, string][]) {
    const rows = batch.map(([id, value]) => {
      const { at, address } = parseSighting(value)
      return { id: Number(id), at: toSqlDateTime(new Date(at)), address }
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

/** A sighting as the hashes hold it: "<unix ms>|<address>". */
function parseSighting(value: string): Sighting {
  const separator = value.indexOf('|')
  return { at: Number(value.slice(0, separator)), address: value.slice(separator + 1) }
}

/** Adds sightings ("<unix ms>|<address>" by device id) to `into`, keeping the newer of two. */
function keepNewer(into: Map<string, string>, sightings: Iterable<[string, string]>) {
  for (const [field, value] of sightings) {
    const kept = into.get(field)
    if (!kept || Number.parseInt(kept, 10) < Number.parseInt(value, 10)) into.set(field, value)
  }
}
