import type { JobsOptions } from 'bullmq'
import type { JobClass, JobDispatcher } from '#services/queue_service'

/**
 * Records dispatched jobs instead of sending them to Redis. Swap it into the
 * container in tests that check what was queued, then run the jobs inline.
 */
export class QueueFake implements JobDispatcher {
  dispatched: { job: JobClass; payload: unknown; options?: JobsOptions }[] = []

  async dispatch<P>(job: JobClass<P>, payload: P, options?: JobsOptions) {
    this.dispatched.push({ job, payload, options })
    return String(this.dispatched.length)
  }

  findAll<P>(job: JobClass<P>) {
    return this.dispatched.filter((entry) => entry.job === job).map((entry) => entry.payload as P)
  }

  async runAll() {
    const pending = this.dispatched.splice(0)
    for (const { job, payload } of pending) {
      await new job().handle(payload, {} as never)
    }
  }
}
