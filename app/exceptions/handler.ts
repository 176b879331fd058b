import app from '@adonisjs/core/services/app'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { renderTerminalError } from '#middleware/terminal_api_middleware'
import { isTerminalApiPath } from '#services/terminal/protocol'

export default class HttpExceptionHandler extends ExceptionHandler {
  protected debug = !app.inProduction

  /**
   * Pages get readable error pages in every environment; details of
   * unexpected errors go to the log.
   */
  protected renderStatusPages = true

  protected statusPages: Record<StatusPageRange, StatusPageRenderer> = {
    '403': (error, { view }) => view.render('pages/errors/forbidden', { error }),
    '404': (error, { view }) => view.render('pages/errors/not_found', { error }),
    '500..599': (error, { view }) => view.render('pages/errors/server_error', { error }),
  }

  /**
   * Terminals get the protocol's JSON for every error, also for those
   * raised before their route runs (a body the body parser refused).
   *
   * A page the operator may not use is a 403 page, also for form posts,
   * rather than Bouncer's redirect back: nothing was changed and the
   * browser says so. API clients still get JSON.
   */
  async handle(error: unknown, ctx: HttpContext) {
    if (isTerminalApiPath(ctx.request.url())) return renderTerminalError(error, ctx)
    if (error instanceof bouncerErrors.E_AUTHORIZATION_FAILURE && 'view' in ctx) {
      if (ctx.request.accepts(['html', 'json']) !== 'json') {
        return ctx.response.status(403).send(await ctx.view.render('pages/errors/forbidden'))
      }
    }
    return super.handle(error, ctx)
  }
}
