import router from '@adonisjs/core/services/router'
import type { HttpContext } from '@adonisjs/core/http'
import { endpointForPath, type TerminalResult } from '#services/terminal/protocol'

export const fallbackPattern = '/faces/api/*'

/**
 * Whatever no terminal route matched under /faces/api: a known endpoint
 * called with another method than POST, a documented endpoint this server
 * does not serve (the recognition endpoints need an engine), or a path
 * that names none.
 */
export default class FallbackController {
  async handle({ request }: HttpContext): Promise<TerminalResult> {
    const url = request.url()
    const endpoint = endpointForPath(url)
    const served = router.match(url, 'POST', false)?.route.pattern !== fallbackPattern
    if (endpoint && served) {
      return {
        ok: false,
        error: { type: 'method_not_allowed', message: `send ${endpoint} as a POST` },
      }
    }
    if (endpoint) {
      const message = `this server does not offer ${endpoint}: it has no recognition engine endpoints`
      return { ok: false, error: { type: 'engine_unavailable', message } }
    }
    const message = `${url} is no endpoint; the list is at /docs`
    return { ok: false, error: { type: 'unknown_endpoint', message } }
  }
}
