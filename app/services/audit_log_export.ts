import { inject } from '@adonisjs/core'
import type { I18n } from '@adonisjs/i18n'
import { csvField } from '#services/access_event_csv'
import { AuditLogQuery, type AuditLogFilters } from '#services/audit_log_query'
import { AuditLogWording, type AuditLogLine } from '#services/audit_log_wording'
import { siteIsoTime, siteNow } from '#services/site_time'

const columns = ['time', 'who', 'action', 'what', 'record_type', 'record', 'address', 'changes']

/** Entries read at a time: a long log never sits in memory at once. */
const chunkSize = 500

/**
 * The audit log as CSV: the entries the page's filters select, all of
 * them, newest first, each with its sentence and changes in the reader's
 * language and its action's code (for spreadsheets to filter on).
 */
@inject()
export class AuditLogExport {
  constructor(
    private query: AuditLogQuery,
    private wording: AuditLogWording
  ) {}

  async *csv(filters: AuditLogFilters, i18n: I18n) {
    yield `\uFEFF${columns.join(',')}\r\n`
    for (let page = 1; ; page++) {
      const { entries } = await this.query.search({ ...filters, page }, chunkSize)
      const lines = await this.wording.lines(entries.all(), i18n)
      yield lines.map((line) => `${csvLine(line, i18n)}\r\n`).join('')
      if (page >= entries.lastPage) return
    }
  }

  /** "audit-20261204-0915.csv", the time of the export at the site. */
  fileName() {
    return `audit-${siteNow().toFormat('yyyyMMdd-HHmm')}.csv`
  }
}

function csvLine({ entry, actor, sentence, changes }: AuditLogLine, i18n: I18n) {
  const changed = changes.map(({ field, before, after }) =>
    before !== undefined && after !== undefined
      ? `${field}: ${before} → ${after}`
      : `${field}: ${before ?? after}`
  )
  return [
    siteIsoTime(entry.createdAt),
    csvField(actor),
    entry.action,
    csvField(sentence),
    csvField(i18n.t(`audit.subject_types.${entry.subjectType}`, {}, entry.subjectType)),
    csvField(entry.subjectLabel ?? entry.subjectId),
    csvField(entry.ipAddress),
    csvField(changed.join('; ')),
  ].join(',')
}
