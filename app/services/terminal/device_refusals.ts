import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import terminalConfig from '#config/terminal'

export type Refusal = {
  /** Unix milliseconds. */
  at: number
  address: string
  endpoint: string
  reason: string
}

const kept = 50

/**
 * Calls refused in a device's name: a wrong or replayed signature, an
 * unsigned call from the wrong address, an endpoint the device may not
 * use. Each is logged with the device and the address; per device, the
 * count and the latest fifty are kept in Redis for the device page, so
 * that an operator sees someone trying to pose as a terminal.
 */
export class DeviceRefusals {
  async record(device: { id: number; serialNumber: string } | null, refusal: Omit<Refusal, 'at'>) {
    logger.warn(
      {
        device: device?.serialNumber ?? null,
        address: refusal.address,
        endpoint: refusal.endpoint,
      },
      `terminal call refused: ${refusal.reason}`
    )
    if (!device) return
    const entry: Refusal = { at: Date.now(), ...refusal }
    await redis
      .multi()
      .lpush(this.#listKey(device.id), JSON.stringify(entry))
      .ltrim(this.#listKey(device.id), 0, kept - 1)
      .hincrby(this.#countKey, String(device.id), 1)
      .exec()
  }

  async of(deviceId: number): Promise<{ total: number; recent: Refusal[] }> {
    const [total, recent] = await Promise.all([
      redis.hget(this.#countKey, String(deviceId)),
      redis.lrange(this.#listKey(deviceId), 0, kept - 1),
    ])
    return { total: Number(total ?? 0), recent: recent.map((text) => JSON.parse(text) as Refusal) }
  }

  /** Refusal counts of several devices at once, for the devices list. */
  async counts(deviceIds: number[]): Promise<Map<number, number>> {
    if (deviceIds.length === 0) return new Map()
    const values = await redis.hmget(this.#countKey, ...deviceIds.map(String))
    return new Map(deviceIds.map((id, index) => [id, Number(values[index] ?? 0)]))
  }

  async clear(deviceId: number) {
    await redis.multi().del(this.#listKey(deviceId)).hdel(this.#countKey, String(deviceId)).exec()
  }

  get #countKey() {
    return `${terminalConfig.keyspace}:refusals`
  }

  #listKey(deviceId: number) {
    return `${terminalConfig.keyspace}:refusals:${deviceId}`
  }
}
