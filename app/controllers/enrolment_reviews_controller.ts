import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import EnrolmentReview from '#models/enrolment_review'
import { actorFromRequest } from '#services/audit_trail'
import { EnrolmentReviewService } from '#services/enrolment_review_service'
import { MediaStore } from '#faces/media_store'
import {
  approveEnrolmentValidator,
  enrolmentReviewListValidator,
} from '#validators/enrolment_review_validator'

/**
 * The queue of enrolments from terminals that wait for an operator: each
 * review's Approve and Reject buttons post here and come back to the queue.
 */
@inject()
export default class EnrolmentReviewsController {
  constructor(
    private reviews: EnrolmentReviewService,
    private media: MediaStore
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('EnrolmentReviewPolicy').authorize('view')
    const { page } = await enrolmentReviewListValidator.validate(request.qs())
    const queue = await this.reviews.overview(page)
    queue.reviews.baseUrl(request.url())
    return view.render('pages/enrolment_reviews/index', queue)
  }

  /** The held photo is biometric data: only for signed-in operators, and never cached. */
  async photo({ params, response, bouncer }: HttpContext) {
    await bouncer.with('EnrolmentReviewPolicy').authorize('view')
    const review = await EnrolmentReview.findOrFail(params.id)
    const file = await this.media.locate(review.imagePath)
    if (!file) throw new Exception('This review has no photo', { status: 404, code: 'E_NOT_FOUND' })
    return response
      .header('Content-Type', file.contentType)
      .header('Cache-Control', 'private, no-store')
      .download(file.path)
  }

  async approve(ctx: HttpContext) {
    await ctx.bouncer.with('EnrolmentReviewPolicy').authorize('manage')
    const review = await EnrolmentReview.findOrFail(ctx.params.id)
    const { groupId } = await ctx.request.validateUsing(approveEnrolmentValidator)
    const result = await this.reviews.approve(actorFromRequest(ctx), review, { groupId })
    if (!result.ok) return this.#backToQueue(ctx, 'error', `errors.${result.error.type}`, review)
    const message = result.group ? 'approved_into_group' : `approved_${review.kind}`
    return this.#backToQueue(ctx, 'success', message, review, { group: result.group?.name })
  }

  async reject(ctx: HttpContext) {
    await ctx.bouncer.with('EnrolmentReviewPolicy').authorize('manage')
    const review = await EnrolmentReview.findOrFail(ctx.params.id)
    await this.reviews.reject(actorFromRequest(ctx), review)
    return this.#backToQueue(ctx, 'success', `rejected_${review.kind}`, review)
  }

  #backToQueue(
    { session, i18n, response }: HttpContext,
    type: 'success' | 'error',
    message: string,
    review: EnrolmentReview,
    extra: Record<string, string | undefined> = {}
  ) {
    const names = { name: review.requestedName, username: review.username, ...extra }
    session.flash(type, i18n.t(`enrolment_reviews.${message}`, names))
    return response.redirect().toRoute('enrolment_reviews.index')
  }
}
