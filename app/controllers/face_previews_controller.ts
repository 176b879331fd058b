import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import type { I18n } from '@adonisjs/i18n'
import { FacePreview, type FramePreview } from '#faces/face_preview'

/** A downscaled frame is a few tens of kilobytes; anything much larger is not one. */
const maxFrameBytes = '2mb'

/**
 * The webcam's live hints: while the camera runs, the page posts a small
 * JPEG frame of its picture about twice a second and draws the faces this
 * answers, with what to change before the photo is taken. Signed-in
 * operators who may enrol, at a limited rate (start/limiter.ts).
 */
@inject()
export default class FacePreviewsController {
  constructor(private preview: FacePreview) {}

  async store({ request, response, bouncer, i18n }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    const frame = request.file('frame', { size: maxFrameBytes })
    if (!frame?.isValid || !frame.tmpPath) {
      return response.status(422).json(answer(i18n, { ok: false, error: unreadable }))
    }
    return answer(i18n, await this.preview.look(await readFile(frame.tmpPath)))
  }
}

const unreadable = { type: 'unreadable_file', message: 'no frame' } as const

/** The faces in frame pixels, whether the picture would do, and one hint in the operator's language. */
function answer(i18n: I18n, seen: FramePreview) {
  if (!seen.ok) {
    const hint = seen.error.type === 'engine_unavailable' ? 'no_engine' : 'unreadable'
    return { ready: false, faces: [], hint: i18n.t(`people.enrol.hints.${hint}`) }
  }
  const { width, height, faces } = seen
  const reply = (key: string, ready = false) => ({
    ready,
    width,
    height,
    faces,
    hint: i18n.t(`people.enrol.hints.${key}`),
  })
  if (faces.length === 0) return reply('no_face')
  if (seen.several) return reply('several')
  if (seen.issues.length > 0) return reply(seen.issues[0])
  return reply('ready', true)
}
