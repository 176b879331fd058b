import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { isTerminalApiPath } from '#services/terminal/protocol'
import { signatureHeaders } from '#services/terminal/request_signing'
import { digestRequestBody } from '#services/terminal/request_digest'

/**
 * Hashes the body of signed terminal calls as it arrives. A server
 * middleware, since it must run before the body parser reads the body.
 */
export default class TerminalBodyDigestMiddleware {
  handle({ request }: HttpContext, next: NextFn) {
    const incoming = request.request
    if (
      incoming.headers[signatureHeaders.signature] !== undefined &&
      isTerminalApiPath(request.url())
    ) {
      digestRequestBody(incoming)
    }
    return next()
  }
}
