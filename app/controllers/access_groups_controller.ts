import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import AccessGroup from '#models/access_group'
import { AccessGroupService } from '#services/access_group_service'
import { actorFromRequest } from '#services/audit_trail'
import { ScheduleService } from '#services/schedule_service'
import { fieldError } from '#validators/field_error'
import {
  accessGroupMessages,
  accessGroupListValidator,
  accessGroupPageValidator,
  accessGroupValidator,
} from '#validators/access_group_validator'

@inject()
export default class AccessGroupsController {
  constructor(
    private groups: AccessGroupService,
    private schedules: ScheduleService
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('view')
    const { page } = await accessGroupListValidator.validate(request.qs())
    const groups = await this.groups.list(page)
    groups.baseUrl(request.url())
    return view.render('pages/access_groups/index', { groups })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    return view.render('pages/access_groups/create', { schedules: await this.schedules.options() })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(
      accessGroupValidator,
      accessGroupMessages(ctx.i18n)
    )
    const result = await this.groups.create(actorFromRequest(ctx), input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`access_groups.${result.error.type}`))
    ctx.session.flash('success', ctx.i18n.t('access_groups.created', { name: result.group.name }))
    return ctx.response.redirect().toRoute('access_groups.show', { id: result.group.id })
  }

  async show({ params, request, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('view')
    const group = await AccessGroup.findOrFail(params.id)
    const filters = await accessGroupPageValidator.validate(request.qs())
    const overview = await this.groups.overview(group, filters)
    overview.people.baseUrl(request.url()).queryString({ q: filters.q, matches: filters.matches })
    const departments = await this.groups.departments(group)
    return view.render('pages/access_groups/show', { group, filters, ...overview, departments })
  }

  async edit({ params, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    const group = await AccessGroup.findOrFail(params.id)
    return view.render('pages/access_groups/edit', {
      group,
      schedules: await this.schedules.options(),
    })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const group = await AccessGroup.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(
      accessGroupValidator,
      accessGroupMessages(ctx.i18n)
    )
    const result = await this.groups.update(actorFromRequest(ctx), group, input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`access_groups.${result.error.type}`))
    ctx.session.flash('success', ctx.i18n.t('access_groups.updated', { name: group.name }))
    return ctx.response.redirect().toRoute('access_groups.show', { id: group.id })
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('manage')
    const group = await AccessGroup.findOrFail(params.id)
    await group.loadCount('people').loadCount('devices')
    return view.render('pages/access_groups/delete', { group })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const group = await AccessGroup.findOrFail(ctx.params.id)
    await this.groups.delete(actorFromRequest(ctx), group)
    ctx.session.flash('success', ctx.i18n.t('access_groups.deleted', { name: group.name }))
    return ctx.response.redirect().toRoute('access_groups.index')
  }
}
