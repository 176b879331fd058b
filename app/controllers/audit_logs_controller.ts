import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { AuditLogQuery } from '#services/audit_log_query'
import { auditLogFilterValidator } from '#validators/audit_log_validator'

@inject()
export default class AuditLogsController {
  constructor(private auditLog: AuditLogQuery) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('AuditLogPolicy').authorize('view')
    const filters = await auditLogFilterValidator.validate(request.qs())
    const page = await this.auditLog.search(filters)
    page.entries.baseUrl(request.url())
    return view.render('pages/audit/index', page)
  }
}
