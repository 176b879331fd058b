import type { Job } from 'bullmq'
import app from '@adonisjs/core/services/app'
import { VideoEnrolmentService, type VideoJobPayload } from '#faces/video_enrolment'

/**
 * Enrols a person's face from an uploaded video (VideoEnrolmentService).
 * One job per video enrolment (the job id names it, so the same
 * dispatch is not queued twice). Retried three times with backoff when
 * the engine is not there; idempotent: a finished enrolment is left as it
 * is, and one run again after a crash counts the frames already enrolled.
 */
export default class EnrolFromVideoJob {
  static jobName = 'enrol-from-video'
  static options = { attempts: 3, backoff: { type: 'exponential', delay: 5000 } }

  async handle(payload: VideoJobPayload, job: Job<VideoJobPayload>) {
    const videos = await app.container.make(VideoEnrolmentService)
    const attempts = job.opts.attempts ?? 1
    return videos.run(payload, { last: job.attemptsMade + 1 >= attempts }, (progress) =>
      job.updateProgress(progress)
    )
  }
}
