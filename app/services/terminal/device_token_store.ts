import { createHash, randomBytes } from 'node:crypto'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'

/**
 * How the call that got a token proved who it was: signed with the device
 * credential, or a legacy device at its pinned address. A token serves
 * only a call that proves itself the same way.
 */
export type TokenBinding = 'signed' | 'legacy'

export type IssuedToken = { deviceId: number; binding: TokenBinding }

/**
 * Device tokens, kept in Redis so that every server process accepts the
 * tokens any of them issued. A key holds the token's hash, not the token,
 * so reading Redis gives nobody a usable token.
 */
export class DeviceTokenStore {
  constructor(private config = terminalConfig.tokens) {}

  async issue(deviceId: number, binding: TokenBinding) {
    const token = randomBytes(20).toString('hex')
    await redis.set(this.#key(token), `${deviceId}|${binding}`, 'EX', this.config.ttlSeconds)
    return { token, expiresIn: this.config.ttlSeconds }
  }

  /** Whom a token was issued to, without spending it; null when unknown or expired. */
  async peek(token: string): Promise<IssuedToken | null> {
    return parse(await redis.get(this.#key(token)))
  }

  /**
   * Spends the token unless tokens may be reused; null when it is unknown,
   * expired or was spent meanwhile.
   */
  async redeem(token: string): Promise<IssuedToken | null> {
    const key = this.#key(token)
    return parse(this.config.singleUse ? await redis.getdel(key) : await redis.get(key))
  }

  #key(token: string) {
    const digest = createHash('sha256').update(token.toLowerCase()).digest('hex')
    return `${terminalConfig.keyspace}:token:${digest}`
  }
}

function parse(value: string | null): IssuedToken | null {
  if (value === null) return null
  const [id, binding] = value.split('|')
  return { deviceId: Number(id), binding: binding === 'signed' ? 'signed' : 'legacy' }
}
