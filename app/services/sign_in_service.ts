import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import { errors as authErrors } from '@adonisjs/auth'
import User from '#models/user'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { SignInLockouts, signInFailures, signInKey } from '#services/sign_in_lockouts'

type SignInRefusal = 'invalid_credentials' | 'disabled' | 'too_many_attempts'

export type SignInResult =
  | { ok: true; user: User }
  | { ok: false; error: { type: 'invalid_credentials' | 'disabled' } }
  | { ok: false; error: { type: 'too_many_attempts'; retryAfterSeconds: number } }

/**
 * Checks an operator's credentials. Failed attempts are counted per account
 * and address; after five in a minute that pair is locked for fifteen.
 * Every sign-in and every refused attempt is in the audit log with the
 * address, a refused one with the email that was tried (never a password).
 */
@inject()
export class SignInService {
  constructor(
    private audit: AuditTrail,
    private lockouts: SignInLockouts
  ) {}

  async attempt(email: string, password: string, ip: string): Promise<SignInResult> {
    const address = email.toLowerCase()
    const failures = signInFailures()
    const key = signInKey(address, ip)
    let outcome: Awaited<ReturnType<typeof failures.penalize<User>>>
    try {
      outcome = await failures.penalize(key, () => User.verifyCredentials(address, password))
    } catch (error) {
      if (!(error instanceof authErrors.E_INVALID_CREDENTIALS)) throw error
      const user = await this.#refused(address, ip, 'invalid_credentials')
      const state = await failures.get(key)
      if (user && state && state.remaining <= 0) {
        await this.lockouts.lockedOut(user, address, ip, state.availableIn)
      }
      return { ok: false, error: { type: 'invalid_credentials' } }
    }
    const [throttled, user] = outcome
    if (throttled) {
      await this.#refused(address, ip, 'too_many_attempts')
      return {
        ok: false,
        error: { type: 'too_many_attempts', retryAfterSeconds: throttled.response.availableIn },
      }
    }
    if (user.disabledAt) {
      await this.#refused(address, ip, 'disabled')
      return { ok: false, error: { type: 'disabled' } }
    }
    user.lastSignInAt = DateTime.now()
    await user.save()
    await this.audit.record(
      { userId: user.id, label: user.email, ip },
      {
        action: 'session.sign_in',
        subjectType: 'user',
        subjectId: user.id,
        subjectLabel: user.email,
      }
    )
    return { ok: true, user }
  }

  /** Records that an operator signed out. */
  async signedOut(actor: Actor) {
    if (actor.userId === null) return
    await this.audit.record(actor, {
      action: 'session.sign_out',
      subjectType: 'user',
      subjectId: actor.userId,
      subjectLabel: actor.label,
    })
  }

  /** Records a refused attempt; returns the account that was tried, if there is one. */
  async #refused(email: string, ip: string, reason: SignInRefusal) {
    const user = await User.findBy('email', email)
    await this.audit.record(
      { userId: null, label: 'anonymous', ip },
      {
        action: 'session.sign_in_failed',
        subjectType: 'user',
        subjectId: user?.id ?? null,
        subjectLabel: email,
        after: { email, reason },
      }
    )
    return user
  }
}
