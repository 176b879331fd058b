import { DateTime } from 'luxon'
import limiter from '@adonisjs/limiter/services/main'
import { errors as authErrors } from '@adonisjs/auth'
import User from '#models/user'
import { redisIsUp } from '#services/redis_availability'

export type SignInResult =
  | { ok: true; user: User }
  | { ok: false; error: { type: 'invalid_credentials' | 'disabled' } }
  | { ok: false; error: { type: 'too_many_attempts'; retryAfterSeconds: number } }

/**
 * The store sign-in attempts are counted in: the configured one, or this
 * process's memory while Redis is down, so that operators can still sign
 * in during an outage (each server process then counts on its own).
 */
export function signInLimiterStore() {
  const configured = limiter.config.default
  return configured === 'redis' && !redisIsUp() ? 'memory' : configured
}

/**
 * Checks an operator's credentials. Failed attempts are counted per account
 * and address; after five in a minute that pair is blocked for fifteen.
 */
export class SignInService {
  async attempt(email: string, password: string, ip: string): Promise<SignInResult> {
    const failures = limiter.use(signInLimiterStore(), {
      requests: 5,
      duration: '1 minute',
      blockDuration: '15 minutes',
    })
    const key = `sign_in_${email.toLowerCase()}_${ip}`
    let outcome: Awaited<ReturnType<typeof failures.penalize<User>>>
    try {
      outcome = await failures.penalize(key, () =>
        User.verifyCredentials(email.toLowerCase(), password)
      )
    } catch (error) {
      if (error instanceof authErrors.E_INVALID_CREDENTIALS) {
        return { ok: false, error: { type: 'invalid_credentials' } }
      }
      throw error
    }
    const [throttled, user] = outcome
    if (throttled) {
      return {
        ok: false,
        error: { type: 'too_many_attempts', retryAfterSeconds: throttled.response.availableIn },
      }
    }
    if (user.disabledAt) {
      return { ok: false, error: { type: 'disabled' } }
    }
    user.lastSignInAt = DateTime.now()
    await user.save()
    return { ok: true, user }
  }
}
