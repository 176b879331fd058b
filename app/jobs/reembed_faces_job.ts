import app from '@adonisjs/core/services/app'
import type { Job } from 'bullmq'
import type { Actor } from '#services/audit_trail'
import { FaceReembedding } from '#faces/face_reembedding'
import { RecognitionEngine } from '#faces/recognition_engine'

/** `catchUp`: only move faces enrolled with the old model around a switch to `target`. */
export type ReembedFacesPayload = { target: string; actor: Actor; catchUp?: boolean }

/**
 * Brings the stored faces to the recognition model `target` and switches
 * them over (FaceReembedding). Idempotent and resumable: the progress is
 * the features staged in the database, so a retried, resumed or
 * duplicated run computes no staged face again and switches once. Five
 * attempts, backing off from 10 s, outlast an engine restart or a
 * database or Redis outage; the last failure is shown on Settings. After
 * the switch a catch-up run, 30 s later, moves faces enrolled with the old
 * model by calls that were under way at the switch.
 */
export default class ReembedFacesJob {
  static jobName = 'reembed-faces'
  static options = { attempts: 5, backoff: { type: 'exponential', delay: 10_000 } }
  static catchUpDelayMs = 30_000

  async handle(payload: ReembedFacesPayload, job?: Job<ReembedFacesPayload>) {
    const reembedding = await app.container.make(FaceReembedding)
    try {
      const engine = await app.container.make(RecognitionEngine)
      if (!(await engine.started())) throw new Error('no recognition engine runs in this process')
      const report = await reembedding.run(
        payload.actor,
        payload.target,
        (progress) => job?.updateProgress?.({ ...progress }),
        { catchUp: payload.catchUp }
      )
      if (report.modelSwitched && job?.id) {
        const queue = await app.container.make('queue')
        await queue.dispatch(
          ReembedFacesJob,
          { ...payload, catchUp: true },
          {
            jobId: `${job.id}-catch-up`,
            delay: ReembedFacesJob.catchUpDelayMs,
          }
        )
      }
      return report
    } catch (error) {
      if (job && job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await reembedding.failed(error instanceof Error ? error.message : String(error))
      }
      throw error
    }
  }
}
