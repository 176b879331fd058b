import { userInfo } from 'node:os'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { HttpContext } from '@adonisjs/core/http'
import AuditLog from '#models/audit_log'

/**
 * Who made a change: an operator in the pages, or a command-line user.
 */
export type Actor = { userId: number | null; label: string; ip: string | null }

export type AuditEntry = {
  action: string
  subjectType: string
  subjectId?: string | number | null
  subjectLabel?: string | null
  before?: Record<string, unknown> | null
  after?: Record<string, unknown> | null
}

export function actorFromRequest({ auth, request }: Pick<HttpContext, 'auth' | 'request'>): Actor {
  const user = auth.user
  return { userId: user?.id ?? null, label: user?.email ?? 'anonymous', ip: request.ip() }
}

export function commandLineActor(): Actor {
  return { userId: null, label: `cli:${userInfo().username}`, ip: null }
}

/**
 * Records changes in the audit log, inside the caller's transaction so the
 * change and its record land together or not at all.
 */
export class AuditTrail {
  async record(actor: Actor, entry: AuditEntry, trx?: TransactionClientContract) {
    const log = new AuditLog()
    log.fill({
      userId: actor.userId,
      actor: actor.label,
      ipAddress: actor.ip,
      action: entry.action,
      subjectType: entry.subjectType,
      subjectId:
        entry.subjectId === undefined || entry.subjectId === null ? null : String(entry.subjectId),
      subjectLabel: entry.subjectLabel ?? null,
      before: entry.before ?? null,
      after: entry.after ?? null,
    })
    if (trx) log.useTransaction(trx)
    await log.save()
    return log
  }
}

/**
 * The fields of a record worth keeping in an audit entry: its serialized
 * columns without secrets.
 */
export function auditSnapshot(record: { serialize(): Record<string, unknown> } | null) {
  if (!record) return null
  const { password, secretHash, embedding, ...rest } = record.serialize()
  void password
  void secretHash
  void embedding
  return rest
}

/**
 * Only the fields that changed between two snapshots.
 */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changedBefore: Record<string, unknown> = {}
  const changedAfter: Record<string, unknown> = {}
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'updatedAt' || key === 'revision') continue
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changedBefore[key] = before[key] ?? null
      changedAfter[key] = after[key] ?? null
    }
  }
  return { before: changedBefore, after: changedAfter }
}
