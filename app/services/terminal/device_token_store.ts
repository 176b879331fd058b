import { createHash, randomBytes } from 'node:crypto'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'

/**
 * Device tokens, kept in Redis so that every server process accepts the
 * tokens any of them issued. A key holds the token's hash, not the token,
 * so reading Redis gives nobody a usable token.
 */
export class DeviceTokenStore {
  constructor(private config = terminalConfig.tokens) {}

  async issue(deviceId: number) {
    const token = randomBytes(20).toString('hex')
    await redis.set(this.#key(token), String(deviceId), 'EX', this.config.ttlSeconds)
    return { token, expiresIn: this.config.ttlSeconds }
  }

  /**
   * The id of the device a token was issued to, spending the token unless
   * tokens may be reused; null when it is unknown, expired or spent.
   */
  async redeem(token: string): Promise<number | null> {
    const key = this.#key(token)
    const value = this.config.singleUse ? await redis.getdel(key) : await redis.get(key)
    return value === null ? null : Number(value)
  }

  #key(token: string) {
    const digest = createHash('sha256').update(token.toLowerCase()).digest('hex')
    return `${terminalConfig.keyspace}:token:${digest}`
  }
}
