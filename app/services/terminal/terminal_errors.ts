import { TerminalException, type TerminalFailure } from '#services/terminal/protocol'
import { isDatabaseUnavailable } from '#services/database_availability'
import { isRedisUnavailable } from '#services/redis_availability'

/**
 * Errors the HTTP layer raises for a request a terminal got wrong, before
 * or around the endpoint's own code, as protocol failures.
 */
const requestErrors: Record<string, TerminalFailure> = {
  E_REQUEST_ENTITY_TOO_LARGE: {
    type: 'image_too_large',
    message: 'the request is larger than the server accepts',
  },
  E_INVALID_MULTIPART_REQUEST: {
    type: 'unreadable_file',
    message: 'the multipart body is cut short or malformed',
  },
  E_ROUTE_NOT_FOUND: { type: 'unknown_endpoint', message: 'the list of endpoints is at /docs' },
  E_REQUEST_ABORTED: { type: 'unreadable_file', message: 'the request was aborted' },
  E_ENCODING_UNSUPPORTED: {
    type: 'invalid_parameter',
    message: 'the body uses a content encoding the server does not read',
  },
}

/**
 * While Redis is down the server cannot check nonces or tokens, count rates
 * or keep sync points, so every call that needs them is refused: safe for
 * signed calls, whose nonces cannot be checked, and quick, so that the
 * terminal retries (or falls back to offline mode) instead of waiting.
 */
const redisUnavailable: TerminalFailure = {
  type: 'redis_unavailable',
  message: "the server's Redis is unavailable; retry in a few seconds",
  retryAfterSeconds: 5,
}

/**
 * While the database is busy past its timeout, restarting or unreachable,
 * calls are refused at once; each call's writes are one transaction, so a
 * refused call wrote nothing and may simply be sent again.
 */
const databaseUnavailable: TerminalFailure = {
  type: 'database_unavailable',
  message: "the server's database is unavailable; retry in a few seconds",
  retryAfterSeconds: 5,
}

/**
 * The failure a thrown error stands for. `unexpected` errors are bugs or
 * outages: their details belong in the server log, never in the answer.
 * A Redis outage is expected, and logged once by the connection's watch;
 * a database outage is expected too, and logged by the handler.
 */
export function failureForError(
  error: unknown,
  requestId: string | undefined
): { failure: TerminalFailure; unexpected: boolean } {
  if (error instanceof TerminalException) return { failure: error.failure, unexpected: false }
  if (isRedisUnavailable(error)) return { failure: redisUnavailable, unexpected: false }
  if (isDatabaseUnavailable(error)) return { failure: databaseUnavailable, unexpected: false }
  const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown }
  if (typeof code === 'string' && requestErrors[code]) {
    return { failure: requestErrors[code], unexpected: false }
  }
  if (error instanceof SyntaxError || (status === 422 && code === undefined)) {
    return {
      failure: { type: 'invalid_parameter', message: 'the body is not a JSON object' },
      unexpected: false,
    }
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      failure: { type: 'invalid_parameter', message: 'the request could not be read' },
      unexpected: false,
    }
  }
  const reference = requestId ? ` (request ${requestId})` : ''
  return {
    failure: {
      type: 'internal',
      message: `the server failed to answer; its log has the details${reference}`,
    },
    unexpected: true,
  }
}
