import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Schedule from '#models/schedule'
import { actorFromRequest } from '#services/audit_trail'
import { ScheduleService, weekdays } from '#services/schedule_service'
import { fieldError } from '#validators/field_error'
import { scheduleMessages, scheduleValidator } from '#validators/schedule_validator'

@inject()
export default class SchedulesController {
  constructor(private schedules: ScheduleService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('view')
    return view.render('pages/schedules/index', { schedules: await this.schedules.list() })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    return view.render('pages/schedules/create')
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(scheduleValidator, scheduleMessages(ctx.i18n))
    const result = await this.schedules.create(actorFromRequest(ctx), input)
    if (!result.ok) throw fieldError('name', ctx.i18n.t('schedules.duplicate_name'))
    ctx.session.flash('success', ctx.i18n.t('schedules.created', { name: result.schedule.name }))
    return ctx.response.redirect().toRoute('schedules.show', { id: result.schedule.id })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('view')
    const schedule = await Schedule.findOrFail(params.id)
    const detail = await this.schedules.detail(schedule)
    return view.render('pages/schedules/show', { schedule, weekdays, ...detail })
  }

  async edit({ params, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(params.id)
    return view.render('pages/schedules/edit', { schedule })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(scheduleValidator, scheduleMessages(ctx.i18n))
    const result = await this.schedules.update(actorFromRequest(ctx), schedule, input)
    if (!result.ok) throw fieldError('name', ctx.i18n.t('schedules.duplicate_name'))
    ctx.session.flash('success', ctx.i18n.t('schedules.updated', { name: schedule.name }))
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(params.id)
    const { groups } = await this.schedules.detail(schedule)
    return view.render('pages/schedules/delete', { schedule, groups })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const schedule = await Schedule.findOrFail(ctx.params.id)
    const result = await this.schedules.delete(actorFromRequest(ctx), schedule)
    if (!result.ok) return this.#refuseDelete(ctx, schedule, result.error.groups)
    ctx.session.flash('success', ctx.i18n.t('schedules.deleted', { name: schedule.name }))
    return ctx.response.redirect().toRoute('schedules.index')
  }

  #refuseDelete(ctx: HttpContext, schedule: Schedule, groups: string[]) {
    const message = ctx.i18n.t('schedules.in_use', {
      name: schedule.name,
      groups: groups.join(', '),
    })
    ctx.session.flash('error', message)
    return ctx.response.redirect().toRoute('schedules.show', { id: schedule.id })
  }
}
