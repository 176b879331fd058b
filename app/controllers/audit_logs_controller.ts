import { Readable } from 'node:stream'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { AuditLogQuery } from '#services/audit_log_query'
import { AuditLogExport } from '#services/audit_log_export'
import { AuditLogWording } from '#services/audit_log_wording'
import { auditLogFilterValidator } from '#validators/audit_log_validator'

@inject()
export default class AuditLogsController {
  constructor(
    private auditLog: AuditLogQuery,
    private wording: AuditLogWording,
    private exports: AuditLogExport
  ) {}

  async index({ request, view, bouncer, i18n }: HttpContext) {
    await bouncer.with('AuditLogPolicy').authorize('view')
    const filters = await auditLogFilterValidator.validate(request.qs())
    const page = await this.auditLog.search(filters)
    page.entries.baseUrl(request.url())
    const lines = await this.wording.lines(page.entries.all(), i18n)
    return view.render('pages/audit/index', { ...page, lines })
  }

  /** The entries the page's filters select, all of them, as CSV in the reader's language. */
  async export({ request, response, bouncer, i18n }: HttpContext) {
    await bouncer.with('AuditLogPolicy').authorize('view')
    const filters = await auditLogFilterValidator.validate(request.qs())
    response
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${this.exports.fileName()}"`)
    return response.stream(Readable.from(this.exports.csv(filters, i18n)))
  }
}
