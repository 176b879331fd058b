import edge from 'edge.js'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { siteNow, siteTime, siteTimeZone } from '#services/site_time'

edge.global('appName', 'FaceAccess')
edge.global('nodeEnv', env.get('NODE_ENV'))

/** Times on the pages are the site's, with the offset shown: `siteTime(event.occurredAt)`. */
edge.global('siteTime', siteTime)
edge.global('siteTimeZone', siteTimeZone)
edge.global('siteNow', siteNow)

/**
 * The number beside "Enrolment reviews" in the navigation. A function, so
 * that it is counted only where the navigation shows that link.
 */
edge.global('pendingEnrolmentReviews', async () => {
  const { EnrolmentReviewService } = await import('#services/enrolment_review_service')
  const reviews = await app.container.make(EnrolmentReviewService)
  return reviews.count()
})
