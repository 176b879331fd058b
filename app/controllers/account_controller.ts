import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import type { HttpError } from '@adonisjs/core/types/http'
import { changePasswordValidator, localeValidator } from '#validators/account_validator'
import { AccountService } from '#services/account_service'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'

/**
 * The signed-in operator's own account: language and password, for every
 * role.
 */
@inject()
export default class AccountController {
  constructor(private account: AccountService) {}

  async show({ view }: HttpContext) {
    return view.render('pages/account/show')
  }

  async updateLocale({ request, response, auth }: HttpContext) {
    const { locale } = await request.validateUsing(localeValidator)
    auth.user!.locale = locale
    await auth.user!.save()
    return response.redirect().back()
  }

  /**
   * Refused input comes back to the form without anything typed: no
   * password, not even the current one, is kept in the session.
   */
  async updatePassword(ctx: HttpContext) {
    const { request, session, response, i18n } = ctx
    const [invalid, input] = await changePasswordValidator.tryValidate(request.all(), {
      messagesProvider: i18n.createMessagesProvider(),
    })
    if (invalid) return this.#refuse(ctx, invalid)
    const actor = actorFromRequest(ctx)
    const result = await this.account.changePassword(
      actor,
      ctx.auth.user!,
      input,
      session.sessionId
    )
    if (!result.ok) {
      return this.#refuse(ctx, fieldError('currentPassword', i18n.t('account.wrong_password')))
    }
    session.flash('success', i18n.t('account.password_changed'))
    return response.redirect().toRoute('account.show')
  }

  #refuse({ session, response }: HttpContext, error: HttpError) {
    session.flashValidationErrors(error, false)
    return response.redirect().toRoute('account.show')
  }
}
