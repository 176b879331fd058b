import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type User from '#models/user'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { OperatorSessions } from '#services/operator_sessions'

export type PasswordChangeResult = { ok: true } | { ok: false; error: { type: 'wrong_password' } }

/**
 * What every operator may change of their own account, whatever their role.
 */
@inject()
export class AccountService {
  constructor(
    private audit: AuditTrail,
    private sessions: OperatorSessions
  ) {}

  /**
   * A new password, given the current one. The operator's other sessions
   * end (someone who learnt the old password and signed in with it is out);
   * `keepSession`, the one changing it, stays signed in.
   */
  async changePassword(
    actor: Actor,
    user: User,
    passwords: { currentPassword: string; password: string },
    keepSession: string
  ): Promise<PasswordChangeResult> {
    if (!(await user.verifyPassword(passwords.currentPassword))) {
      return { ok: false, error: { type: 'wrong_password' } }
    }
    await db.transaction(async (trx) => {
      user.useTransaction(trx)
      user.password = passwords.password
      await user.save()
      await this.audit.record(
        actor,
        {
          action: 'account.password',
          subjectType: 'user',
          subjectId: user.id,
          subjectLabel: user.email,
        },
        trx
      )
    })
    await this.sessions.end(user, keepSession)
    return { ok: true }
  }
}
