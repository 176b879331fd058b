import limiter from '@adonisjs/limiter/services/main'
import { errors } from '@adonisjs/limiter'
import terminalConfig from '#config/terminal'

/**
 * Limits token requests per serial number (a terminal stuck in a loop) and
 * per address (one host posing as many terminals). Counted before the
 * database is asked anything.
 */
export class TokenThrottle {
  constructor(private config = terminalConfig.tokens) {}

  /** Null while both limits allow the request, else when to try again. */
  async check(
    serialNumber: string,
    address: string
  ): Promise<{ retryAfterSeconds: number } | null> {
    const limits = [
      { key: `terminal_token_address_${address}`, requests: this.config.perAddressPerMinute },
      { key: `terminal_token_device_${serialNumber}`, requests: this.config.perDevicePerMinute },
    ]
    for (const { key, requests } of limits) {
      try {
        await limiter.use({ requests, duration: '1 minute' }).consume(key)
      } catch (error) {
        if (!(error instanceof errors.E_TOO_MANY_REQUESTS)) throw error
        return { retryAfterSeconds: Math.max(1, error.response.availableIn) }
      }
    }
    return null
  }
}
