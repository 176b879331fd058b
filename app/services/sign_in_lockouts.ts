import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import limiter from '@adonisjs/limiter/services/main'
import AuditLog from '#models/audit_log'
import type User from '#models/user'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { redisIsUp } from '#services/redis_availability'
import { toSqlDateTime } from '#services/sql_time'

/** Failed sign-ins to one account from one address that lock it there. */
const failuresAllowed = 5
const lockMinutes = 15

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
 * Failed sign-ins, counted per account and address: after five in a minute
 * that pair is locked for fifteen.
 */
export function signInFailures(store = signInLimiterStore()) {
  return limiter.use(store, {
    requests: failuresAllowed,
    duration: '1 minute',
    blockDuration: `${lockMinutes} minutes`,
  })
}

/** The counter of one account (its email as typed, lowercased) at one address. */
export function signInKey(email: string, address: string) {
  return `sign_in_${email}_${address}`
}

/** A lockout as the audit log keeps it. */
type LockoutEntry = Pick<AuditLog, 'subjectId' | 'ipAddress' | 'after'>

/**
 * Accounts locked by failed sign-ins, for the Operators page: until when,
 * and an administrator's unlock. The counters live in the limiter's store
 * (Redis, or memory); the audit log's `session.locked_out` entries say
 * which account and address each lock is for.
 */
@inject()
export class SignInLockouts {
  constructor(private audit: AuditTrail) {}

  /** Records that `email` (an operator's) is locked at `address`. */
  async lockedOut(user: User, email: string, address: string, seconds: number) {
    await this.audit.record(
      { userId: null, label: 'anonymous', ip: address },
      {
        action: 'session.locked_out',
        subjectType: 'user',
        subjectId: user.id,
        subjectLabel: user.email,
        after: { email, until: DateTime.now().plus({ seconds }).toISO() },
      }
    )
  }

  /** The operators locked out now (at one address or more), with the time the last lock ends. */
  async lockedUntil(): Promise<Map<number, DateTime>> {
    const until = new Map<number, DateTime>()
    for (const entry of await this.#recentLockouts()) {
      const state = await signInFailures().get(keyOf(entry))
      if (!state || state.remaining > 0) continue
      const ends = DateTime.now().plus({ seconds: state.availableIn })
      const userId = Number(entry.subjectId)
      if (!until.has(userId) || until.get(userId)! < ends) until.set(userId, ends)
    }
    return until
  }

  /**
   * Lifts every lock on the operator's account, at every address, and says
   * so in the audit log. Returns how many addresses were locked.
   */
  async unlock(actor: Actor, user: User) {
    const locked = await this.#recentLockouts(user)
    const stores = new Set([signInLimiterStore(), 'memory'] as const)
    let lifted = 0
    for (const entry of locked) {
      const key = keyOf(entry)
      let wasLocked = false
      for (const store of stores) {
        const failures = signInFailures(store)
        const state = await failures.get(key)
        if (state && state.remaining <= 0) wasLocked = true
        await failures.delete(key)
      }
      if (wasLocked) lifted++
    }
    await this.audit.record(actor, {
      action: 'operator.unlock',
      subjectType: 'user',
      subjectId: user.id,
      subjectLabel: user.email,
      after: { addresses: lifted },
    })
    return lifted
  }

  /** Lockouts recent enough to be in force, of one operator or all. */
  async #recentLockouts(user?: User): Promise<LockoutEntry[]> {
    const since = DateTime.now().minus({ minutes: lockMinutes + 1 })
    const query = AuditLog.query()
      .where('action', 'session.locked_out')
      .where('created_at', '>=', toSqlDateTime(since))
      .select('subject_id', 'ip_address', 'after')
    if (user) query.where('subject_type', 'user').where('subject_id', String(user.id))
    return query
  }
}

function keyOf(entry: LockoutEntry) {
  return signInKey(String(entry.after?.email ?? ''), entry.ipAddress ?? '')
}
