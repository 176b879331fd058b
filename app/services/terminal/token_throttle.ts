import limiter from '@adonisjs/limiter/services/main'
import { errors } from '@adonisjs/limiter'
import terminalConfig from '#config/terminal'

/**
 * Limits token requests per address (one host posing as many terminals),
 * counted before the database is asked anything. Each device's own rate
 * is counted by the device gate once it has proved who it is, so that
 * nobody else can spend it.
 */
export class TokenThrottle {
  constructor(private config = terminalConfig.tokens) {}

  /** Null while the limit allows the request, else when to try again. */
  async check(address: string): Promise<{ retryAfterSeconds: number } | null> {
    try {
      await limiter
        .use({ requests: this.config.perAddressPerMinute, duration: '1 minute' })
        .consume(`terminal_token_address_${address}`)
      return null
    } catch (error) {
      if (!(error instanceof errors.E_TOO_MANY_REQUESTS)) throw error
      return { retryAfterSeconds: Math.max(1, error.response.availableIn) }
    }
  }
}
