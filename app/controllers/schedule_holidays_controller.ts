import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Schedule from '#models/schedule'
import { actorFromRequest } from '#services/audit_trail'
import { ScheduleService, maxHolidayDays } from '#services/schedule_service'
import { fieldError } from '#validators/field_error'
import { holidayValidator, scheduleMessages } from '#validators/schedule_validator'

/**
 * Days on which none of a schedule's windows apply: one date, or a range
 * of dates in one step.
 */
@inject()
export default class ScheduleHolidaysController {
  constructor(private schedules: ScheduleService) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(holidayValidator, scheduleMessages(ctx.i18n))
    const result = await this.schedules.addHolidays(actorFromRequest(ctx), schedule, input)
    if (!result.ok) {
      const message = result.error.type === 'too_long' ? 'holiday_too_long' : 'duplicate_date'
      throw fieldError(
        result.error.field,
        ctx.i18n.t(`schedules.${message}`, { max: maxHolidayDays })
      )
    }
    const [first] = result.added
    const message = result.added.length === 1 ? 'holiday_added' : 'holidays_added'
    ctx.session.flash(
      'success',
      ctx.i18n.t(`schedules.${message}`, {
        name: first.name,
        count: result.added.length,
        skipped: result.skipped,
      })
    )
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    await this.schedules.removeHoliday(
      actorFromRequest(ctx),
      schedule,
      Number(ctx.params.holidayId)
    )
    ctx.session.flash('success', ctx.i18n.t('schedules.holiday_removed'))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }
}
