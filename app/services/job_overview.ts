import { DateTime } from 'luxon'
import { inject } from '@adonisjs/core'
import type { Job } from 'bullmq'
import { QueueService } from '#services/queue_service'
import { isRedisConnectionError } from '#services/redis_availability'

/** The states a job can be in, as BullMQ counts them. */
export const jobStates = [
  'active',
  'waiting',
  'prioritized',
  'delayed',
  'failed',
  'completed',
] as const
export type JobState = (typeof jobStates)[number]

export type JobRow = {
  id: string
  name: string
  data: Record<string, unknown>
  attemptsMade: number
  attempts: number
  progress: number | null
  failedReason: string | null
  returnValue: unknown
  addedAt: DateTime
  startedAt: DateTime | null
  finishedAt: DateTime | null
  runsAt: DateTime | null
}

export type JobsSnapshot = {
  counts: Record<JobState, number>
  active: JobRow[]
  pending: JobRow[]
  failed: JobRow[]
  completed: JobRow[]
  schedules: { key: string; name: string; pattern: string | null; next: DateTime | null }[]
}

export type JobActionResult =
  | { ok: true; job: { id: string; name: string; failedReason: string | null } }
  | { ok: false; reason: 'not_found' | 'not_failed' }

/** The queue is unreachable: Redis is down or does not answer in time. */
export class QueueUnreachable extends Error {}

/**
 * What the Jobs page shows of the queue: counts per state, the jobs
 * running, waiting, failed and lately done, and the timetable. Every read
 * gives up after `timeoutMs`, since BullMQ waits for a connection that
 * never came up rather than failing.
 */
@inject()
export class JobOverview {
  static listLength = 50
  static timeoutMs = 3000

  constructor(private queues: QueueService) {}

  async snapshot(): Promise<JobsSnapshot> {
    const queue = this.queues.queue
    const limit = JobOverview.listLength - 1
    const [counts, active, pending, failed, completed, schedulers] = await this.#reach(
      Promise.all([
        queue.getJobCounts(...jobStates),
        queue.getJobs(['active'], 0, limit, true),
        queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, limit, true),
        queue.getJobs(['failed'], 0, limit, false),
        queue.getJobs(['completed'], 0, limit, false),
        queue.getJobSchedulers(0, -1, true),
      ])
    )
    return {
      counts: Object.fromEntries(jobStates.map((state) => [state, counts[state] ?? 0])) as Record<
        JobState,
        number
      >,
      active: rows(active),
      pending: rows(pending),
      failed: rows(failed),
      completed: rows(completed),
      schedules: schedulers.map((scheduler) => ({
        key: scheduler.key,
        name: scheduler.name,
        pattern: scheduler.pattern ?? null,
        next: scheduler.next ? DateTime.fromMillis(scheduler.next) : null,
      })),
    }
  }

  /** Runs a failed job again, with its attempts counted afresh. */
  async retry(id: string): Promise<JobActionResult> {
    const job = await this.#failedJob(id)
    if (!job.ok) return job
    // Described first: retrying forgets why it failed.
    const described = describe(job.job)
    await this.#reach(job.job.retry('failed', { resetAttemptsMade: true }))
    return { ok: true, job: described }
  }

  /** Removes a failed job from the list; it does not run again. */
  async remove(id: string): Promise<JobActionResult> {
    const job = await this.#failedJob(id)
    if (!job.ok) return job
    await this.#reach(job.job.remove())
    return { ok: true, job: describe(job.job) }
  }

  async #failedJob(id: string) {
    const job = await this.#reach(this.queues.queue.getJob(id))
    if (!job) return { ok: false as const, reason: 'not_found' as const }
    const state = await this.#reach(job.getState())
    if (state !== 'failed') return { ok: false as const, reason: 'not_failed' as const }
    return { ok: true as const, job }
  }

  async #reach<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new QueueUnreachable('timed out')), JobOverview.timeoutMs)
    })
    try {
      return await Promise.race([work, timeout])
    } catch (error) {
      if (error instanceof QueueUnreachable) throw error
      if (isRedisConnectionError(error)) throw new QueueUnreachable('redis', { cause: error })
      throw error
    } finally {
      clearTimeout(timer)
      // A read that lost the race may still fail later; nobody waits for it.
      work.catch(() => undefined)
    }
  }
}

function describe(job: Job) {
  return { id: job.id!, name: job.name, failedReason: job.failedReason ?? null }
}

function rows(jobs: (Job | undefined)[]): JobRow[] {
  return jobs
    .filter((job): job is Job => Boolean(job?.id))
    .map((job) => ({
      id: job.id!,
      name: job.name,
      data: job.data && typeof job.data === 'object' ? job.data : {},
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      progress: typeof job.progress === 'number' ? job.progress : null,
      failedReason: job.failedReason ?? null,
      returnValue: job.returnvalue ?? null,
      addedAt: DateTime.fromMillis(job.timestamp),
      startedAt: job.processedOn ? DateTime.fromMillis(job.processedOn) : null,
      finishedAt: job.finishedOn ? DateTime.fromMillis(job.finishedOn) : null,
      runsAt: job.delay > 0 ? DateTime.fromMillis(job.timestamp + job.delay) : null,
    }))
}
