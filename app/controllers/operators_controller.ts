import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import User from '#models/user'
import { OperatorService } from '#services/operator_service'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'
import { createOperatorValidator, updateOperatorValidator } from '#validators/operator_validator'

@inject()
export default class OperatorsController {
  constructor(private operators: OperatorService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('UserPolicy').authorize('view')
    return view.render('pages/operators/index', { operators: await this.operators.list() })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.with('UserPolicy').authorize('manage')
    return view.render('pages/operators/create')
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('UserPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(createOperatorValidator)
    const result = await this.operators.create(actorFromRequest(ctx), input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`operators.${result.error.type}`))
    ctx.session.flash('success', ctx.i18n.t('operators.created', { name: result.user.fullName }))
    return ctx.response.redirect().toRoute('operators.index')
  }

  async edit({ params, view, bouncer }: HttpContext) {
    await bouncer.with('UserPolicy').authorize('manage')
    const operator = await User.findOrFail(params.id)
    return view.render('pages/operators/edit', { operator })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('UserPolicy').authorize('manage')
    const operator = await User.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(updateOperatorValidator)
    const result = await this.operators.update(actorFromRequest(ctx), operator, input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`operators.${result.error.type}`))
    ctx.session.flash('success', ctx.i18n.t('operators.updated', { name: operator.fullName }))
    return ctx.response.redirect().toRoute('operators.index')
  }
}
