import { join } from 'node:path'
import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import videoConfig from '#config/video'
import Person from '#models/person'
import VideoEnrolment from '#models/video_enrolment'
import { actorFromRequest } from '#services/audit_trail'
import { QueueService } from '#services/queue_service'
import { VideoEnrolmentService, videoProgress, type VideoRefusal } from '#faces/video_enrolment'

/**
 * Video registration on a person's page: the upload queues a job, the
 * page follows its progress (a JSON poll, or a reload without
 * JavaScript), shows the best frames so far, and may cancel it.
 */
@inject()
export default class VideoEnrolmentsController {
  constructor(
    private videos: VideoEnrolmentService,
    private queue: QueueService
  ) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const file = ctx.request.file('video', { size: videoConfig.maxBytes })
    let result: Awaited<ReturnType<VideoEnrolmentService['accept']>>
    if (!file?.tmpPath) {
      result = { ok: false, error: { type: 'missing', message: 'choose a video to upload' } }
    } else if (!file.isValid) {
      result = { ok: false, error: { type: 'too_large', message: file.errors[0].message } }
    } else {
      result = await this.videos.accept(
        actorFromRequest(ctx),
        person,
        { tmpPath: file.tmpPath, clientName: file.clientName, size: file.size },
        this.queue
      )
    }
    if (!result.ok) return this.#refused(ctx, person, result.error)
    if (ctx.request.accepts(['html', 'json']) === 'json') {
      return ctx.response.status(202).json(videoProgress(result.enrolment))
    }
    ctx.session.flash('success', ctx.i18n.t('video.queued'))
    return ctx.response.redirect().toPath(`${this.#personPage(person)}#person-video`)
  }

  /**
   * The person's latest video enrolments and their progress as JSON, for
   * the page's poll; a browser is sent to the person page, which shows them.
   */
  async index(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('view')
    const person = await Person.findOrFail(ctx.params.id)
    if (ctx.request.accepts(['html', 'json']) !== 'json') {
      return ctx.response.redirect().toPath(`${this.#personPage(person)}#person-video`)
    }
    const videos = await this.videos.forPerson(person.id)
    return ctx.response
      .header('Cache-Control', 'no-store')
      .json({ videos: videos.map(videoProgress) })
  }

  /** A best frame's thumbnail while the job runs. */
  async frame(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('view')
    const enrolment = await this.#find(ctx)
    const shown = (enrolment.best ?? []).find((best) => best.frame === Number(ctx.params.frame))
    if (!shown) throw new Exception('No such frame', { status: 404, code: 'E_NOT_FOUND' })
    const path = join(VideoEnrolmentService.stagingDir(), shown.thumbnail)
    return ctx.response
      .header('Content-Type', 'image/jpeg')
      .header('Cache-Control', 'private, max-age=60')
      .download(path)
  }

  async cancel(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const enrolment = await this.#find(ctx)
    const cancelled = await this.videos.cancel(enrolment)
    if (ctx.request.accepts(['html', 'json']) === 'json') {
      return ctx.response.status(cancelled ? 202 : 409).json(videoProgress(enrolment))
    }
    ctx.session.flash(
      cancelled ? 'success' : 'error',
      ctx.i18n.t(cancelled ? 'video.cancelling' : 'video.cannot_cancel')
    )
    return ctx.response.redirect().toPath(`/admin/people/${enrolment.personId}/edit#person-video`)
  }

  #find(ctx: HttpContext) {
    return VideoEnrolment.query()
      .where('id', ctx.params.videoId)
      .where('person_id', ctx.params.id)
      .firstOrFail()
  }

  #personPage(person: Person) {
    return `/admin/people/${person.id}/edit`
  }

  /** A refused upload: a form error on the person page, or 422 with the reason for a script. */
  #refused(ctx: HttpContext, person: Person, error: VideoRefusal) {
    const key = `video.errors.${error.type}`
    const message =
      ctx.i18n.hasMessage(key) || ctx.i18n.hasFallbackMessage(key)
        ? ctx.i18n.t(key, { maxMb: megabytes(videoConfig.maxBytes) })
        : error.message
    if (ctx.request.accepts(['html', 'json']) === 'json') {
      return ctx.response.status(422).json({ error: { type: error.type, message } })
    }
    ctx.session.flash('videoError', message)
    return ctx.response.redirect().toPath(`${this.#personPage(person)}#person-video`)
  }
}

/** Megabytes to one decimal, as the limit is stated. */
function megabytes(bytes: number) {
  return Math.round(bytes / 104_857.6) / 10
}
