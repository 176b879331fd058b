import { createHash, randomBytes } from 'node:crypto'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'

/**
 * How the call that got a token proved who it was: signed with the device
 * credential, or a legacy device at its pinned address. A token serves
 * only a call that proves itself the same way.
 */
export type TokenBinding = 'signed' | 'legacy'

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

  /** The device a token was issued to, without spending it; null when unknown or expired. */
  async ownerOf(token: string): Promise<number | null> {
    const value = await redis.get(this.#key(token))
    return value === null ? null : Number(value.split('|')[0])
  }

  /**
   * Spends the token if it was issued to this device under this proof (in
   * one Redis round trip), unless tokens may be reused. Otherwise nothing
   * is spent: 'unknown' when it is unknown, expired or was spent, 'other'
   * when it belongs to another device or proof.
   */
  async redeemFor(
    token: string,
    deviceId: number,
    binding: TokenBinding
  ): Promise<'redeemed' | 'unknown' | 'other'> {
    const value = (await redis.eval(
      redeemScript,
      1,
      this.#key(token),
      `${deviceId}|${binding}`,
      this.config.singleUse ? '1' : '0'
    )) as string | null
    if (value === null) return 'unknown'
    return value === 'ok' ? 'redeemed' : 'other'
  }

  /**
   * Removes every token issued to the device, for a device that is
   * deleted. Token keys hold a hash of the token, not the device, so this
   * scans them: deleting a device is rare, calls are not.
   */
  async revokeAll(deviceId: number) {
    const prefix = redis.connection().ioConnection.options.keyPrefix ?? ''
    const pattern = `${prefix}${terminalConfig.keyspace}:token:*`
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length === 0) continue
      const names = keys.map((key) => key.slice(prefix.length))
      const owners = await redis.mget(...names)
      const owned = names.filter((_, index) => owners[index]?.startsWith(`${deviceId}|`))
      if (owned.length > 0) await redis.del(...owned)
    } while (cursor !== '0')
  }

  #key(token: string) {
    const digest = createHash('sha256').update(token.toLowerCase()).digest('hex')
    return `${terminalConfig.keyspace}:token:${digest}`
  }
}

/** Compare-and-spend: nil for no such token, 'ok' when spent (or valid), else 'other'. */
const redeemScript = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
if value ~= ARGV[1] then return 'other' end
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
return 'ok'`
