import { promisify } from 'node:util'
import { brotliCompress, constants as zlib, gzip } from 'node:zlib'
import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import terminalConfig from '#config/terminal'
import {
  endpointForPath,
  flagFor,
  isTerminalResult,
  terminalAnswer,
  type TerminalAnswer,
} from '#services/terminal/protocol'
import { failureForError } from '#services/terminal/terminal_errors'

const compressors = {
  br: (data: Buffer) =>
    promisify(brotliCompress)(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }),
  gzip: (data: Buffer) => promisify(gzip)(data),
}

/**
 * The terminal protocol's HTTP edge (/faces/api). Controllers return
 * results (`{ ok, data }` or `{ ok: false, error }`); this turns them, and
 * anything thrown, into the protocol's JSON answer with the endpoint's
 * flag. Nothing under /faces/api answers HTML or shows a stack trace.
 */
export default class TerminalApiMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const flag = flagFor(endpointForPath(ctx.request.url()))
    try {
      await next()
    } catch (error) {
      return renderTerminalError(error, ctx, { report: true })
    }
    const body = ctx.response.getBody()
    if (isTerminalResult(body)) await sendTerminalAnswer(ctx, terminalAnswer(flag, body))
  }
}

/**
 * Answers a thrown error as the protocol does. Used by the middleware for
 * errors in endpoints, which it reports, and by the exception handler for
 * errors raised before routing (a body the body parser refused), which
 * the handler has reported already.
 */
export async function renderTerminalError(
  error: unknown,
  ctx: HttpContext,
  options = { report: false }
) {
  const { failure, unexpected } = failureForError(error, ctx.request.id())
  if (unexpected && options.report) ctx.logger.error({ err: error }, 'terminal request failed')
  const flag = flagFor(endpointForPath(ctx.request.url()))
  await sendTerminalAnswer(ctx, terminalAnswer(flag, { ok: false, error: failure }))
}

/**
 * Writes an answer, compressed when it is large and the client accepts
 * it: a full getDbs answer of a large site is tens of megabytes of base64.
 */
async function sendTerminalAnswer({ request, response }: HttpContext, answer: TerminalAnswer) {
  response.status(answer.status)
  for (const [name, value] of Object.entries(answer.headers)) response.header(name, value)
  response.header('Content-Type', 'application/json; charset=utf-8')
  const json = Buffer.from(JSON.stringify(answer.body))
  if (json.length <= terminalConfig.compressAboveBytes) return response.send(json)
  response.header('Vary', 'Accept-Encoding')
  const encoding = request.encoding(['br', 'gzip', 'identity'])
  if (encoding !== 'br' && encoding !== 'gzip') return response.send(json)
  response.header('Content-Encoding', encoding)
  response.send(await compressors[encoding](json))
}
