import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import type { MediaStore } from '#faces/media_store'

/**
 * Deletes an enrolment photo once nothing uses it: photos are stored by
 * content, so the same picture may back another person's face or a face
 * held for review.
 */
export async function removeIfUnused(media: MediaStore, path: string | null) {
  if (!path) return
  const [face, review] = await Promise.all([
    Face.findBy('image_path', path),
    EnrolmentReview.findBy('image_path', path),
  ])
  if (!face && !review) await media.remove(path)
}
