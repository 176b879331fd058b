import { createHash, type Hash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const digests = new WeakMap<IncomingMessage, Hash>()

/**
 * Starts a SHA-256 of a request's body as it is read off the connection,
 * before any body parser sees it: the bytes a signed call signs, whatever
 * their encoding. Form, JSON and multipart parsers all read the request
 * through its 'data' events, so hashing those sees every byte they parse,
 * in order, without holding the body in memory.
 */
export function digestRequestBody(request: IncomingMessage) {
  const hash = createHash('sha256')
  const emit = request.emit
  request.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]) {
    if (event === 'data') hash.update(args[0] as Buffer)
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>)
  } as typeof request.emit
  digests.set(request, hash)
}

/** The hex SHA-256 of the body read so far; null when no digest was started. */
export function requestBodyDigest(request: IncomingMessage) {
  return digests.get(request)?.copy().digest('hex') ?? null
}
