import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import User from '#models/user'
import { OperatorService } from '#services/operator_service'
import { SignInLockouts } from '#services/sign_in_lockouts'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'
import { createOperatorValidator, updateOperatorValidator } from '#validators/operator_validator'

@inject()
export default class OperatorsController {
  constructor(
    private operators: OperatorService,
    private lockouts: SignInLockouts
  ) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('UserPolicy').authorize('view')
    const [operators, lockedUntil] = await Promise.all([
      this.operators.list(),
      this.lockouts.lockedUntil(),
    ])
    return view.render('pages/operators/index', { operators, lockedUntil })
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
    const actor = actorFromRequest(ctx)
    const result = await this.operators.update(actor, operator, input, ctx.session.sessionId)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`operators.${result.error.type}`))
    ctx.session.flash('success', ctx.i18n.t('operators.updated', { name: operator.fullName }))
    return ctx.response.redirect().toRoute('operators.index')
  }

  /** Lifts the locks failed sign-ins put on the account, at every address. */
  async unlock(ctx: HttpContext) {
    await ctx.bouncer.with('UserPolicy').authorize('manage')
    const operator = await User.findOrFail(ctx.params.id)
    await this.lockouts.unlock(actorFromRequest(ctx), operator)
    ctx.session.flash('success', ctx.i18n.t('operators.unlocked', { name: operator.fullName }))
    return ctx.response.redirect().toRoute('operators.index')
  }

  async signOutEverywhere(ctx: HttpContext) {
    await ctx.bouncer.with('UserPolicy').authorize('manage')
    const operator = await User.findOrFail(ctx.params.id)
    const actor = actorFromRequest(ctx)
    const count = await this.operators.signOutEverywhere(actor, operator, ctx.session.sessionId)
    const values = { name: operator.fullName, count }
    ctx.session.flash('success', ctx.i18n.t('operators.signed_out_everywhere', values))
    return ctx.response.redirect().toRoute('operators.edit', { id: operator.id })
  }
}
