import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { signInValidator } from '#validators/session_validator'
import { SignInService } from '#services/sign_in_service'

@inject()
export default class SessionController {
  constructor(private signIn: SignInService) {}

  async create({ view }: HttpContext) {
    return view.render('pages/auth/sign_in')
  }

  async store({ request, response, session, auth, i18n }: HttpContext) {
    const { email, password } = await request.validateUsing(signInValidator)
    const result = await this.signIn.attempt(email, password, request.ip())
    if (!result.ok) {
      const message =
        result.error.type === 'too_many_attempts'
          ? i18n.t('auth.too_many_attempts', { seconds: result.error.retryAfterSeconds })
          : i18n.t(`auth.${result.error.type}`)
      session.flash('error', message)
      session.flashOnly(['email'])
      return response.redirect().back()
    }
    await auth.use('web').login(result.user)
    return response.redirect().toRoute('dashboard')
  }

  async destroy({ auth, response }: HttpContext) {
    await auth.use('web').logout()
    return response.redirect().toRoute('session.create')
  }
}
