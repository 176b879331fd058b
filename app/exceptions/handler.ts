import app from '@adonisjs/core/services/app'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import { Exception } from '@adonisjs/core/exceptions'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { renderTerminalError } from '#middleware/terminal_api_middleware'
import { isTerminalApiPath } from '#services/terminal/protocol'
import { isDatabaseUnavailable } from '#services/database_availability'
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
   * A page that needs Redis or the database while it is unavailable says
   * so (503) at once.
   */
  async handle(error: unknown, ctx: HttpContext) {
    if (isTerminalApiPath(ctx.request.url())) return renderTerminalError(error, ctx)
    const outage = outageOf(error)
    if (outage) {
      const unavailable = new Exception(outage.message, {
        status: 503,
        code: outage.code,
        cause: error,
      })
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
   * stack trace for every request it fails; a database outage is logged
   * as a warning, one line per refused request.
   */
  async report(error: unknown, ctx: HttpContext) {
    if (isRedisUnavailable(error)) return
    if (isDatabaseUnavailable(error)) {
      const message = error instanceof Error ? error.message : String(error)
      ctx.logger.warn({ url: ctx.request.url() }, `database unavailable: ${message}`)
      return
    }
    return super.report(error, ctx)
  }
}

/** The outage an error stands for, as the page and the JSON answer say it. */
function outageOf(error: unknown) {
  if (isRedisUnavailable(error)) {
    return {
      code: 'E_REDIS_UNAVAILABLE',
      message: "The server's Redis is unavailable; try again in a few seconds.",
    }
  }
  if (isDatabaseUnavailable(error)) {
    return {
      code: 'E_DATABASE_UNAVAILABLE',
      message: "The server's database is unavailable; try again in a few seconds.",
    }
  }
  return null
}
