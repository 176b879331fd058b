import type { HttpContext } from '@adonisjs/core/http'
import { localeValidator } from '#validators/account_validator'

/**
 * The signed-in operator's own preferences.
 */
export default class AccountController {
  async updateLocale({ request, response, auth }: HttpContext) {
    const { locale } = await request.validateUsing(localeValidator)
    auth.user!.locale = locale
    await auth.user!.save()
    return response.redirect().back()
  }
}
