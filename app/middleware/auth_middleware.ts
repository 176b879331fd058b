import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import type { Authenticators } from '@adonisjs/auth/types'

/**
 * Requires a signed-in operator whose account is not disabled. A visitor
 * who is not signed in (a first visit, a session that ended) is sent to
 * the sign-in page as it is, without an error: nothing went wrong. Other
 * clients than browsers get the guard's 401. A disabled account is signed
 * out on its next request.
 */
export default class AuthMiddleware {
  redirectTo = '/login'

  async handle(
    ctx: HttpContext,
    next: NextFn,
    options: { guards?: (keyof Authenticators)[] } = {}
  ) {
    const wantsPage = ctx.request.accepts(['html', 'json']) !== 'json'
    if (wantsPage && !(await ctx.auth.check())) return ctx.response.redirect(this.redirectTo)
    await ctx.auth.authenticateUsing(options.guards, { loginRoute: this.redirectTo })
    const user = ctx.auth.user!
    if (user.disabledAt) {
      await ctx.auth.use('web').logout()
      ctx.session.flash('error', ctx.i18n.t('auth.disabled'))
      return ctx.response.redirect(this.redirectTo)
    }
    return next()
  }
}
