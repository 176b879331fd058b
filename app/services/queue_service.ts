import { Queue, Worker, type Job, type JobsOptions } from 'bullmq'
import type { Logger } from '@adonisjs/core/logger'
import type { QueueConfig } from '#config/queue'

/**
 * A job class: a name, a payload type, and a handler that delegates to
 * services. Retries come from the queue's default job options unless the
 * class sets its own.
 */
export interface JobClass<Payload = any> {
  jobName: string
  options?: JobsOptions
  new (): { handle(payload: Payload, job: Job<Payload>): Promise<unknown> }
}

export type JobLoaders = Record<string, () => Promise<{ default: JobClass }>>

/**
 * Everything the app needs from a queue. The BullMQ implementation below is
 * used at run time; tests swap in `QueueFake`.
 */
export interface JobDispatcher {
  dispatch<P>(job: JobClass<P>, payload: P, options?: JobsOptions): Promise<string>
}

export class QueueService implements JobDispatcher {
  #queue?: Queue
  #worker?: Worker
  #handlers = new Map<string, JobClass>()

  constructor(
    private config: QueueConfig,
    private logger: Logger,
    private loaders: JobLoaders
  ) {}

  get queue(): Queue {
    this.#queue ??= new Queue(this.config.queueName, {
      connection: { ...this.config.connection, maxRetriesPerRequest: null },
      prefix: this.config.prefix,
      defaultJobOptions: this.config.defaultJobOptions,
    })
    return this.#queue
  }

  get workerRunning() {
    return this.#worker?.isRunning() ?? false
  }

  async dispatch<P>(job: JobClass<P>, payload: P, options?: JobsOptions) {
    const queued = await this.queue.add(job.jobName, payload, { ...job.options, ...options })
    return queued.id!
  }

  async #handlerFor(name: string) {
    const cached = this.#handlers.get(name)
    if (cached) return cached
    for (const load of Object.values(this.loaders)) {
      const { default: JobConstructor } = await load()
      this.#handlers.set(JobConstructor.jobName, JobConstructor)
    }
    const handler = this.#handlers.get(name)
    if (!handler) throw new Error(`No job class handles "${name}"`)
    return handler
  }

  /**
   * Creates or updates the timetabled jobs from the config.
   */
  async registerSchedules() {
    for (const schedule of this.config.schedules) {
      await this.queue.upsertJobScheduler(
        schedule.key,
        { pattern: schedule.pattern },
        { name: schedule.job, data: schedule.payload }
      )
    }
  }

  startWorker(concurrency = this.config.concurrency) {
    if (this.#worker) return this.#worker
    this.#worker = new Worker(
      this.config.queueName,
      async (job) => {
        const JobConstructor = await this.#handlerFor(job.name)
        return new JobConstructor().handle(job.data, job)
      },
      {
        connection: { ...this.config.connection, maxRetriesPerRequest: null },
        prefix: this.config.prefix,
        concurrency,
      }
    )
    this.#worker.on('failed', (job, error) => {
      this.logger.error({ err: error, job: job?.name, id: job?.id }, 'job failed')
    })
    this.#worker.on('error', (error) => {
      this.logger.warn({ err: error }, 'queue worker error')
    })
    return this.#worker
  }

  /**
   * Closes the worker and queue, giving up after a few seconds so that a
   * missing Redis cannot keep the process alive.
   */
  async close(timeoutMs = 3000) {
    const closing = Promise.allSettled([this.#worker?.close(), this.#queue?.close()])
    const timedOut = Symbol('timed out')
    const timer = new Promise((resolve) => setTimeout(() => resolve(timedOut), timeoutMs).unref())
    if ((await Promise.race([closing, timer])) === timedOut) {
      await Promise.allSettled([this.#worker?.disconnect(), this.#queue?.disconnect()])
    }
    this.#worker = undefined
    this.#queue = undefined
  }
}
