import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Schedule from '#models/schedule'
import { actorFromRequest } from '#services/audit_trail'
import { ScheduleService } from '#services/schedule_service'
import { scheduleMessages, scheduleWindowValidator } from '#validators/schedule_validator'

/**
 * A schedule's weekly windows, added and removed one row at a time from the
 * schedule's page.
 */
@inject()
export default class ScheduleWindowsController {
  constructor(private schedules: ScheduleService) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(
      scheduleWindowValidator,
      scheduleMessages(ctx.i18n)
    )
    await this.schedules.addWindow(actorFromRequest(ctx), schedule, input)
    ctx.session.flash('success', ctx.i18n.t('schedules.window_added'))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    await this.schedules.removeWindow(actorFromRequest(ctx), schedule, Number(ctx.params.windowId))
    ctx.session.flash('success', ctx.i18n.t('schedules.window_removed'))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }
}
