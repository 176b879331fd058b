import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Person from '#models/person'
import { PeopleService } from '#services/people_service'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'
import {
  createPersonValidator,
  personSearchValidator,
  updatePersonValidator,
} from '#validators/person_validator'

@inject()
export default class PeopleController {
  constructor(private people: PeopleService) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const filters = await personSearchValidator.validate(request.qs())
    const people = await this.people.search(filters)
    people.baseUrl(request.url()).queryString({ q: filters.q, status: filters.status })
    return view.render('pages/people/index', { people, filters })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    return view.render('pages/people/create')
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(createPersonValidator)
    const result = await this.people.create(actorFromRequest(ctx), input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`people.duplicate_${result.error.field}`))
    ctx.session.flash('success', ctx.i18n.t('people.created', { name: result.person.displayName }))
    return ctx.response.redirect().toRoute('people.index')
  }

  async edit({ params, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(params.id)
    await person.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    await person.load('faces', (faces) => faces.orderBy('id', 'desc'))
    await person.load('consentRecorder')
    return view.render('pages/people/edit', { person })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(updatePersonValidator)
    const result = await this.people.update(actorFromRequest(ctx), person, input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`people.duplicate_${result.error.field}`))
    if (result.withdrawConsent) {
      ctx.session.flash(
        'success',
        ctx.i18n.t('people.consent.saved_before_withdrawal', { name: person.displayName })
      )
      return ctx.response.redirect().toRoute('people.consent.withdraw', { id: person.id })
    }
    ctx.session.flash('success', ctx.i18n.t('people.updated', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.index')
  }

  async suspend(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const status = ctx.request.input('status') === 'active' ? 'active' : 'suspended'
    await this.people.setStatus(actorFromRequest(ctx), person, status)
    ctx.session.flash('success', ctx.i18n.t(`people.${status}_done`, { name: person.displayName }))
    return ctx.response.redirect().back()
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(params.id)
    return view.render('pages/people/delete', { person })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    await this.people.delete(actorFromRequest(ctx), person)
    ctx.session.flash('success', ctx.i18n.t('people.deleted', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.index')
  }
}
