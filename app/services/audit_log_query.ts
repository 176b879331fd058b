import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import AuditLog from '#models/audit_log'
import { siteTimeZone } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'
import { containsPattern, likeClause, prefixPattern } from '#services/text_search'

export type AuditLogFilters = {
  action?: string
  subjectType?: string
  actor?: string
  from?: Date
  until?: Date
  page?: number
}

/**
 * One field of an entry as the page shows it. A side is undefined when the
 * entry has no record on that side (a creation has no before), and null
 * when the field was empty there.
 */
export type AuditChange = { field: string; before?: string | null; after?: string | null }

/**
 * Bookkeeping fields that every write touches; showing them would bury the
 * real changes.
 */
const bookkeepingFields = new Set(['id', 'createdAt', 'updatedAt', 'revision'])

const maxValueLength = 120

/**
 * Reads the audit log for the audit page: filtered, newest first, fifty to a
 * page, each entry with the fields it changed.
 */
export class AuditLogQuery {
  async search(filters: AuditLogFilters, perPage = 50) {
    const query = AuditLog.query().orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (filters.action) {
      query.whereRaw(likeClause('action'), [prefixPattern(filters.action)])
    }
    if (filters.subjectType) query.where('subject_type', filters.subjectType)
    if (filters.actor) {
      query.whereRaw(likeClause('actor'), [containsPattern(filters.actor)])
    }
    if (filters.from) {
      query.where('created_at', '>=', toSqlDateTime(siteDay(filters.from)))
    }
    if (filters.until) {
      query.where('created_at', '<', toSqlDateTime(siteDay(filters.until).plus({ days: 1 })))
    }

    const entries = await query.paginate(filters.page ?? 1, perPage)
    const shown = filtersAsQuery(filters)
    entries.queryString(shown)
    const rows = entries.all().map((entry) => ({ entry, changes: auditChanges(entry) }))
    return { entries, rows, filters: shown, subjectTypes: await this.#subjectTypes() }
  }

  async #subjectTypes(): Promise<string[]> {
    const rows = await db.from('audit_logs').distinct('subject_type').orderBy('subject_type')
    return rows.map((row) => row.subject_type)
  }
}

/**
 * The fields an entry changed, as short strings: for an update the fields
 * it holds (the writer kept only changed ones), for a creation or deletion
 * the fields that had a value.
 */
export function auditChanges(entry: Pick<AuditLog, 'before' | 'after'>): AuditChange[] {
  const { before, after } = entry
  const fields = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  const changes: AuditChange[] = []
  for (const field of fields) {
    if (bookkeepingFields.has(field)) continue
    const was = before ? displayValue(before[field]) : undefined
    const now = after ? displayValue(after[field]) : undefined
    if ((was ?? null) === (now ?? null)) continue
    changes.push({ field, before: was, after: now })
  }
  return changes
}

/**
 * A value on one short line: timestamps to the minute, long text cut.
 */
function displayValue(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/\s+/g, ' ')
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) {
    const time = DateTime.fromISO(text)
    if (time.isValid) return time.toFormat('yyyy-MM-dd HH:mm')
  }
  return text.length > maxValueLength ? `${text.slice(0, maxValueLength - 1)}…` : text
}

/** The start of a day the filter form names, at the site. */
const siteDay = (day: Date) =>
  DateTime.fromISO(DateTime.fromJSDate(day).toISODate()!, { zone: siteTimeZone })

/**
 * The filters as they appear in the query string: for the form, and for the
 * page links so that paging keeps them.
 */
function filtersAsQuery(filters: AuditLogFilters) {
  const day = (value?: Date) => (value ? DateTime.fromJSDate(value).toISODate() : undefined)
  return {
    action: filters.action,
    subjectType: filters.subjectType,
    actor: filters.actor,
    from: day(filters.from),
    until: day(filters.until),
  }
}
