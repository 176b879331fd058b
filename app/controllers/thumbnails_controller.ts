import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import AccessEvent from '#models/access_event'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import { FaceThumbnails, type Thumbnail, type ThumbnailSize } from '#faces/face_thumbnails'

/**
 * How long a browser may keep a thumbnail: long enough that paging through
 * a list and back does not fetch its faces again, short enough that a
 * shared computer does not hold them for a day. Never in a shared cache.
 */
const cacheControl = 'private, max-age=600'

/**
 * Square JPEG thumbnails (96 or 192 pixels) of the photos the pages list:
 * a person's faces, a held enrolment's face, an event's snapshot. Signed-in
 * operators who may read the photo may read its thumbnail.
 */
@inject()
export default class ThumbnailsController {
  constructor(private thumbnails: FaceThumbnails) {}

  async face({ params, response, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const face = await Face.query()
      .where('person_id', params.id)
      .where('id', params.faceId)
      .firstOrFail()
    return send(response, await this.thumbnails.face(face.imagePath, face.box, size(params)))
  }

  async review({ params, response, bouncer }: HttpContext) {
    await bouncer.with('EnrolmentReviewPolicy').authorize('view')
    const review = await EnrolmentReview.findOrFail(params.id)
    return send(response, await this.thumbnails.face(review.imagePath, review.box, size(params)))
  }

  async snapshot({ params, response, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const event = await AccessEvent.findOrFail(params.id)
    return send(response, await this.thumbnails.picture(event.snapshotPath, size(params)))
  }
}

/** The route admits only the sizes there are (`thumbnailSizes`). */
const size = (params: Record<string, string>) => Number(params.size) as ThumbnailSize

function send(response: HttpContext['response'], thumbnail: Thumbnail | null) {
  if (!thumbnail)
    throw new Exception('There is no photo here', { status: 404, code: 'E_NOT_FOUND' })
  return response
    .header('Content-Type', thumbnail.contentType)
    .header('Cache-Control', cacheControl)
    .send(thumbnail.bytes)
}
