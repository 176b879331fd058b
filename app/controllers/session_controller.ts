import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { signInValidator } from '#validators/session_validator'
import { SignInService } from '#services/sign_in_service'
import { OperatorSessions } from '#services/operator_sessions'
import { actorFromRequest } from '#services/audit_trail'

@inject()
export default class SessionController {
  constructor(
    private signIn: SignInService,
    private sessions: OperatorSessions
  ) {}

  async create({ view }: HttpContext) {
    return view.render('pages/auth/sign_in')
  }

  /**
   * A refused sign-in goes back to the form with the email kept; a lockout
   * says in whole minutes when to try again.
   */
  async store({ request, response, session, auth, i18n }: HttpContext) {
    const { email, password } = await request.validateUsing(signInValidator)
    const result = await this.signIn.attempt(email, password, request.ip())
    if (!result.ok) {
      const message =
        result.error.type === 'too_many_attempts'
          ? i18n.t('auth.too_many_attempts', {
              minutes: Math.max(1, Math.ceil(result.error.retryAfterSeconds / 60)),
            })
          : i18n.t(`auth.${result.error.type}`)
      session.flash('error', message)
      session.flashOnly(['email'])
      return response.redirect().back()
    }
    await auth.use('web').login(result.user)
    await this.sessions.signedIn(session, result.user)
    return response.redirect().toRoute('dashboard')
  }

  /**
   * Signs out and gives the browser a new session id: the old one, and any
   * copy of its cookie, names no session any more.
   */
  async destroy(ctx: HttpContext) {
    const actor = actorFromRequest(ctx)
    await ctx.auth.use('web').logout()
    ctx.session.regenerate()
    await this.signIn.signedOut(actor)
    return ctx.response.redirect().toRoute('session.create')
  }
}
