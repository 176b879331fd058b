import app from '@adonisjs/core/services/app'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import { Exception } from '@adonisjs/core/exceptions'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { renderTerminalError } from '#middleware/terminal_api_middleware'
import { isTerminalApiPath } from '#services/terminal/protocol'
import { isRedisUnavailable } from '#services/redis_availability'

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
   *
   * A page that needs Redis while it is down says so (503) at once.
   */
  async handle(error: unknown, ctx: HttpContext) {
    if (isTerminalApiPath(ctx.request.url())) return renderTerminalError(error, ctx)
    if (isRedisUnavailable(error)) {
      const unavailable = new Exception(
        "The server's Redis is unavailable; try again in a few seconds.",
        { status: 503, code: 'E_REDIS_UNAVAILABLE', cause: error }
      )
      if ('view' in ctx && ctx.request.accepts(['html', 'json']) !== 'json') {
        const page = await ctx.view.render('pages/errors/unavailable', { error: unavailable })
        return ctx.response.status(503).send(page)
      }
      return super.handle(unavailable, ctx)
    }
    if (error instanceof bouncerErrors.E_AUTHORIZATION_FAILURE && 'view' in ctx) {
      if (ctx.request.accepts(['html', 'json']) !== 'json') {
        return ctx.response.status(403).send(await ctx.view.render('pages/errors/forbidden'))
      }
    }
    return super.handle(error, ctx)
  }

  /**
   * A Redis outage is logged once by the connection's watch, not with a
   * stack trace for every request it fails.
   */
  async report(error: unknown, ctx: HttpContext) {
    if (isRedisUnavailable(error)) return
    return super.report(error, ctx)
  }
}
