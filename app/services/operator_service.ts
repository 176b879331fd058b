import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { uniqueViolation } from '#services/unique_violation'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import User, { type Locale, type UserRole } from '#models/user'
import { OperatorSessions } from '#services/operator_sessions'
import {
  AuditTrail,
  auditSnapshot,
  changedFields,
  type Actor,
  type AuditEntry,
} from '#services/audit_trail'

type OperatorFields = {
  email: string
  fullName: string
  role: UserRole
  locale: Locale
}

export type NewOperatorInput = OperatorFields & { password: string }

/**
 * `password` absent keeps the current one; `disabled` absent means enabled.
 */
export type OperatorChanges = OperatorFields & { password?: string; disabled?: boolean }

type Lockout = 'self_disable' | 'self_demote' | 'last_admin_disable' | 'last_admin_demote'

export type OperatorFailure = {
  ok: false
  error: { type: 'duplicate_email'; field: 'email' } | { type: Lockout; field: 'disabled' | 'role' }
}
export type OperatorResult = { ok: true; user: User } | OperatorFailure

/**
 * Creates and changes operator accounts, each write in one transaction with
 * its audit entries. The site always keeps an enabled administrator. A new
 * password or a disabled account ends the operator's sessions.
 */
@inject()
export class OperatorService {
  constructor(
    private audit: AuditTrail,
    private sessions: OperatorSessions
  ) {}

  async list() {
    return User.query().orderBy('full_name', 'asc').orderBy('id', 'asc')
  }

  async create(actor: Actor, input: NewOperatorInput): Promise<OperatorResult> {
    return this.#write(async (trx) => {
      if (await this.#emailTaken(trx, input.email)) return duplicateEmail()

      const user = new User().useTransaction(trx)
      user.merge(input)
      await user.save()

      await this.audit.record(
        actor,
        { ...subject(user, 'operator.create'), after: auditSnapshot(user) },
        trx
      )
      return { ok: true, user }
    })
  }

  /**
   * `keepSession` is the session the change is made in: an administrator
   * who gives themselves a new password stays signed in there.
   */
  async update(
    actor: Actor,
    user: User,
    input: OperatorChanges,
    keepSession?: string
  ): Promise<OperatorResult> {
    const disabledBefore = isDisabled(user)
    const result = await this.#write(async (trx) => {
      user.useTransaction(trx)
      if (await this.#emailTaken(trx, input.email, user.id)) return duplicateEmail()
      const disabled = input.disabled ?? false
      const refusal = await this.#lockout(trx, actor, user, input.role, disabled)
      if (refusal) return refusal

      const before = auditSnapshot(user)!
      const { email, fullName, role, locale } = input
      user.merge({ email, fullName, role, locale })
      if (disabled !== isDisabled(user)) user.disabledAt = disabled ? DateTime.now() : null
      if (input.password) user.password = input.password
      if (!user.$isDirty) return { ok: true, user }
      await user.save()

      const changes = changedFields(before, auditSnapshot(user)!)
      for (const entry of updateEntries(user, changes, Boolean(input.password))) {
        await this.audit.record(actor, entry, trx)
      }
      return { ok: true, user }
    })
    if (result.ok && (input.password || (isDisabled(user) && !disabledBefore))) {
      await this.sessions.end(user, keepSession)
    }
    return result
  }

  /**
   * Ends every session of the operator, wherever it is (a shared computer,
   * a copied cookie), but `keepSession`, the one asking.
   */
  async signOutEverywhere(actor: Actor, user: User, keepSession?: string) {
    const ended = await this.sessions.end(user, keepSession)
    await this.audit.record(actor, {
      ...subject(user, 'operator.sign_out_everywhere'),
      after: { sessions: ended },
    })
    return ended
  }

  /**
   * Refuses a change that would leave the site without an administrator
   * able to manage it: nobody locks themselves out, and the last enabled
   * administrator stays one.
   */
  async #lockout(
    trx: TransactionClientContract,
    actor: Actor,
    user: User,
    role: UserRole,
    disabled: boolean
  ): Promise<OperatorFailure | null> {
    const disabling = disabled && !isDisabled(user)
    const demoting = user.isAdmin && role !== 'admin'
    if (user.id === actor.userId) {
      if (disabling) return lockout('self_disable')
      if (demoting) return lockout('self_demote')
    }
    if (!user.isAdmin || isDisabled(user) || !(disabling || demoting)) return null

    const anotherAdmin = await User.query({ client: trx })
      .where('role', 'admin')
      .whereNull('disabled_at')
      .whereNot('id', user.id)
      .first()
    if (anotherAdmin) return null
    return lockout(disabling ? 'last_admin_disable' : 'last_admin_demote')
  }

  async #emailTaken(trx: TransactionClientContract, email: string, exceptId?: number) {
    const query = User.query({ client: trx }).whereRaw('lower(email) = ?', [email.toLowerCase()])
    if (exceptId) query.whereNot('id', exceptId)
    return Boolean(await query.first())
  }

  /**
   * Runs a write in a transaction. Email is the only unique column, so a
   * unique violation from a concurrent write is a duplicate email rather
   * than a 500.
   */
  async #write(
    work: (trx: TransactionClientContract) => Promise<OperatorResult>
  ): Promise<OperatorResult> {
    try {
      return await db.transaction(work)
    } catch (error) {
      if (uniqueViolation(error) !== null) return duplicateEmail()
      throw error
    }
  }
}

function subject(user: User, action: string): AuditEntry {
  return { action, subjectType: 'user', subjectId: user.id, subjectLabel: user.email }
}

/**
 * One entry per kind of change, so role changes, disabling and password
 * resets can each be found by their action. The password itself is never
 * recorded, only that it was set.
 */
function updateEntries(
  user: User,
  changes: { before: Record<string, unknown>; after: Record<string, unknown> },
  passwordSet: boolean
): AuditEntry[] {
  const { role: roleBefore, disabledAt: disabledBefore, ...before } = changes.before
  const { role: roleAfter, disabledAt: disabledAfter, ...after } = changes.after
  const entries: AuditEntry[] = []
  if (Object.keys(after).length > 0) {
    entries.push({ ...subject(user, 'operator.update'), before, after })
  }
  if ('role' in changes.after) {
    entries.push({
      ...subject(user, 'operator.role'),
      before: { role: roleBefore },
      after: { role: roleAfter },
    })
  }
  if ('disabledAt' in changes.after) {
    entries.push({
      ...subject(user, disabledAfter ? 'operator.disable' : 'operator.enable'),
      before: { disabledAt: disabledBefore },
      after: { disabledAt: disabledAfter },
    })
  }
  if (passwordSet) entries.push(subject(user, 'operator.password'))
  return entries
}

/**
 * `User#isDisabled` reads an unset column (a user just created, not yet
 * reloaded) as disabled; an unset column here means enabled.
 */
function isDisabled(user: User) {
  return Boolean(user.disabledAt)
}

function duplicateEmail(): OperatorFailure {
  return { ok: false, error: { type: 'duplicate_email', field: 'email' } }
}

function lockout(type: Lockout): OperatorFailure {
  return { ok: false, error: { type, field: type.endsWith('disable') ? 'disabled' : 'role' } }
}
