import edge from 'edge.js'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import videoConfig from '#config/video'
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

/**
 * A person's latest video enrolments as their page shows them, and the
 * limits the upload form states (config/video.ts).
 */
edge.global('videoEnrolmentsOf', async (personId: number) => {
  const { VideoEnrolmentService, videoProgress } = await import('#faces/video_enrolment')
  const videos = await app.container.make(VideoEnrolmentService)
  const latest = await videos.forPerson(personId)
  return latest.map(videoProgress)
})
edge.global('videoLimits', {
  minSeconds: videoConfig.minSeconds,
  maxSeconds: videoConfig.maxSeconds,
  maxMb: Math.round(videoConfig.maxBytes / 1048576),
  frames: videoConfig.enrolFrames,
})
