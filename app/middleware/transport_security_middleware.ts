import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { appUrl, isHttpsUrl } from '#config/app'

/** 180 days, in seconds. */
const maxAge = 180 * 24 * 60 * 60

/**
 * Tells browsers to reach this site over https only, for 180 days
 * (Strict-Transport-Security), once they have reached it over https: when
 * APP_URL is https, or the request came over TLS, directly or through a
 * reverse proxy listed in TRUSTED_PROXIES. A later visit typed as http://
 * then never sends the session cookie or a password in the clear. Sites
 * served over plain http (ALLOW_PLAIN_HTTP) do not send it. Subdomains are
 * left out: other hosts of the site's domain may not serve https.
 */
export default class TransportSecurityMiddleware {
  #appServedOverHttps = isHttpsUrl(appUrl)

  async handle(ctx: HttpContext, next: NextFn) {
    if (this.#appServedOverHttps || ctx.request.secure()) {
      ctx.response.header('Strict-Transport-Security', `max-age=${maxAge}`)
    }
    return next()
  }
}
