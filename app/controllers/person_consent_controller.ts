import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Person from '#models/person'
import { actorFromRequest } from '#services/audit_trail'
import { ConsentWithdrawal } from '#faces/consent_withdrawal'

/**
 * Withdrawing a person's biometric consent: unticking the consent box on
 * the person form leads to the confirmation page, and only its button
 * deletes the person's faces.
 */
@inject()
export default class PersonConsentController {
  constructor(private consent: ConsentWithdrawal) {}

  async confirmWithdraw(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    if (!person.consentGivenAt) return this.#notOnRecord(ctx, person)
    const deletes = await this.consent.preview(person)
    return ctx.view.render('pages/people/withdraw_consent', { person, deletes })
  }

  async withdraw(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const result = await this.consent.withdraw(actorFromRequest(ctx), person)
    if (!result.ok) return this.#notOnRecord(ctx, person)
    ctx.session.flash(
      'success',
      ctx.i18n.t('people.consent.withdrawn', { name: person.displayName, count: result.faces })
    )
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  #notOnRecord({ session, i18n, response }: HttpContext, person: Person) {
    session.flash(
      'error',
      i18n.t('people.consent.not_on_record_flash', { name: person.displayName })
    )
    return response.redirect().toRoute('people.edit', { id: person.id })
  }
}
