import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * Signed-in admin pages show people, faces and credentials. Browsers and
 * proxies keep no copy of them (Cache-Control: no-store), so the back
 * button after signing out on a shared guard-room computer shows nothing;
 * and links to other sites carry no address of them (Referrer-Policy:
 * same-origin), while the app's own redirect back to a form still gets the
 * Referer it needs.
 */
export default class PrivatePageMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    ctx.response.header('Cache-Control', 'no-store')
    ctx.response.header('Referrer-Policy', 'same-origin')
    return next()
  }
}
