import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { uploadLimits, uploadRoutes } from '#config/bodyparser'
import { discardPart, UploadedParts } from '#services/uploaded_parts'
import { isTerminalApiPath } from '#services/terminal/protocol'
import { decodeSerialHeader, signatureHeaders } from '#services/terminal/request_signing'
import { UploadAdmission } from '#services/terminal/upload_admission'

/**
 * Reads multipart bodies, which the body parser leaves alone
 * (config/bodyparser.ts), once the cheap checks are done. File parts are
 * written to disk only on the routes that take files (`uploadRoutes`) and
 * only for a known caller: on pages a signed-in operator, at /faces/api a
 * device that could pass the device gate (UploadAdmission). They go to the
 * private uploads folder and are deleted when the response is over,
 * whatever its outcome. The body parser's `maxFields` caps the parts of a
 * request.
 *
 * Pages read a multipart body on those routes only; elsewhere, and for
 * someone not signed in, it stays unread (and CSRF refuses the post).
 * Terminals may send any call's fields as multipart, so their fields are
 * always read; a file part from an unknown device is counted (the size
 * limit still answers 69642) and dropped, marked `withheld` for the image
 * reader.
 */
export default class MultipartMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const { request } = ctx
    if (request.bodyType !== 'multipart' || request.multipart.state !== 'idle') return next()
    const takesFiles = uploadRoutes.includes(ctx.route?.pattern ?? '')

    if (!isTerminalApiPath(request.url())) {
      if (!takesFiles || !(await ctx.auth.use('web').check())) return next()
      await readParts(ctx, 'keep', uploadLimits[ctx.route?.pattern ?? ''])
      return next()
    }
    await readParts(ctx, takesFiles && (await fromKnownDevice(ctx)) ? 'keep' : 'withhold')
    return next()
  }
}

async function fromKnownDevice({ request }: HttpContext) {
  const signed = request.header(signatureHeaders.signature) !== undefined
  const serial = request.header(signatureHeaders.serial)
  const signedBy = signed ? (serial ? decodeSerialHeader(serial.trim()) : null) : null
  if (signed && !signedBy) return false
  return new UploadAdmission().admits({ address: request.ip(), signedBy })
}

async function readParts(
  { request, response }: HttpContext,
  files: 'keep' | 'withhold',
  limit?: number
) {
  const multipart = request.multipart
  if (files === 'keep') {
    const parts = new UploadedParts()
    response.response.once('close', () => void parts.discard())
    multipart.onFile('*', { deferValidations: true }, async (part, report) => {
      try {
        return await parts.write(part, report)
      } catch (error) {
        multipart.abort(error)
      }
    })
  } else {
    multipart.onFile('*', { deferValidations: true }, async (part, report) => {
      await discardPart(part, report)
      return { withheld: true }
    })
  }
  await multipart.process(limit ? { limit } : undefined)
}
