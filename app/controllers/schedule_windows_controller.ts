import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Schedule from '#models/schedule'
import { actorFromRequest } from '#services/audit_trail'
import { ScheduleService, type WindowsResult } from '#services/schedule_service'
import { fieldError } from '#validators/field_error'
import {
  copyDayValidator,
  scheduleMessages,
  scheduleWindowValidator,
} from '#validators/schedule_validator'

/**
 * A schedule's weekly windows, from its page: one window added to several
 * days at once, a day's windows copied to other days, a window removed.
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
    const result = await this.schedules.addWindows(actorFromRequest(ctx), schedule, input)
    return this.#done(ctx, schedule, result, 'weekdays')
  }

  async copy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(copyDayValidator, scheduleMessages(ctx.i18n))
    const result = await this.schedules.copyDay(actorFromRequest(ctx), schedule, input)
    return this.#done(ctx, schedule, result, 'toWeekdays')
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    await this.schedules.removeWindow(actorFromRequest(ctx), schedule, Number(ctx.params.windowId))
    ctx.session.flash('success', ctx.i18n.t('schedules.window_removed'))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }

  /** Back to the schedule, or the form again with the reason nothing was added. */
  #done(ctx: HttpContext, schedule: Schedule, result: WindowsResult, field: string) {
    if (!result.ok) throw this.#refusal(ctx, result.error, field)
    ctx.session.flash('success', ctx.i18n.t('schedules.windows_added', { count: result.added }))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }

  /** An empty day to copy, or the windows of the days that the new ones would overlap. */
  #refusal({ i18n }: HttpContext, error: WindowsRefusal, field: string) {
    if (error.type === 'empty_day') {
      return fieldError('fromWeekday', i18n.t('schedules.empty_day'), 'empty_day')
    }
    const windows = error.conflicts
      .map(
        ({ weekday, from, until }) => `${i18n.t(`schedules.weekdays.${weekday}`)} ${from}–${until}`
      )
      .join(', ')
    return fieldError(field, i18n.t('schedules.overlap', { windows }), 'overlap')
  }
}

type WindowsRefusal = Extract<WindowsResult, { ok: false }>['error']
