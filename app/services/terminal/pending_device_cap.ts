import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import terminalConfig from '#config/terminal'
import { unlessRedisIsDown } from '#services/redis_availability'

/**
 * What operators see of the cap on pending devices: how many are pending
 * against the limits, and how many new devices were not registered
 * because a limit was reached (kept in Redis, with the latest address;
 * unknown while Redis is down).
 */
export class PendingDeviceCap {
  #key = `${terminalConfig.keyspace}:pending-refused`

  async refused(address: string) {
    logger.warn(
      { address },
      'a new device was not registered: the cap on pending devices is reached'
    )
    await redis
      .multi()
      .hincrby(this.#key, 'count', 1)
      .hset(this.#key, 'lastAt', String(Date.now()), 'lastAddress', address)
      .exec()
  }

  async status() {
    const [row] = await db.from('devices').where('status', 'pending').count('* as total')
    const refused = (await unlessRedisIsDown(redis.hgetall(this.#key), null)) ?? {}
    return {
      pending: Number(row.total),
      total: terminalConfig.auth.pendingTotal,
      perAddress: terminalConfig.auth.pendingPerAddress,
      refused: Number(refused.count ?? 0),
      lastRefusedAt: refused.lastAt ? new Date(Number(refused.lastAt)) : null,
      lastRefusedAddress: refused.lastAddress ?? null,
    }
  }
}
