import edge from 'edge.js'
import app from '@adonisjs/core/services/app'
import env from '#start/env'

edge.global('appName', 'FaceAccess')
edge.global('nodeEnv', env.get('NODE_ENV'))

/**
 * The number beside "Enrolment reviews" in the navigation. A function, so
 * that it is counted only where the navigation shows that link.
 */
edge.global('pendingEnrolmentReviews', async () => {
  const { EnrolmentReviewService } = await import('#services/enrolment_review_service')
  const reviews = await app.container.make(EnrolmentReviewService)
  return reviews.count()
})
