import router from '@adonisjs/core/services/router'
import type { HttpContext } from '@adonisjs/core/http'
import { endpointForPath, type TerminalResult } from '#services/terminal/protocol'

export const fallbackPattern = '/faces/api/*'

/**
 * Whatever no terminal route matched under /faces/api: a known endpoint
 * called with another method than its own (POST, or GET for pictures), or
 * a path that names none.
 */
export default class FallbackController {
  async handle({ request }: HttpContext): Promise<TerminalResult> {
    const url = request.url()
    const endpoint = endpointForPath(url)
    const allow = (['POST', 'GET'] as const).find((method) => {
      const pattern = router.match(url, method, false)?.route.pattern
      return pattern !== undefined && pattern !== fallbackPattern
    })
    if (endpoint && allow) {
      return {
        ok: false,
        error: { type: 'method_not_allowed', message: `send ${endpoint} as a ${allow}`, allow },
      }
    }
    const message = `${url} is no endpoint; the list is at /docs`
    return { ok: false, error: { type: 'unknown_endpoint', message } }
  }
}
