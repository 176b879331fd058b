import { Queue, Worker, type Job, type JobsOptions } from 'bullmq'
import type { Logger } from '@adonisjs/core/logger'
import type { QueueConfig } from '#config/queue'
import { isRedisConnectionError, RedisOutageLog } from '#services/redis_availability'

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
  #schedulesFollowRedis = false
  #workerOutage?: RedisOutageLog

  constructor(
    private config: QueueConfig,
    private logger: Logger,
    private loaders: JobLoaders
  ) {}

  /**
   * Adding a job fails at once while Redis is down (no offline queue)
   * rather than holding up the request that adds it. BullMQ keeps
   * reconnecting; an outage is logged once.
   */
  get queue(): Queue {
    if (!this.#queue) {
      this.#queue = new Queue(this.config.queueName, {
        connection: {
          ...this.config.connection,
          maxRetriesPerRequest: null,
          enableOfflineQueue: false,
        },
        prefix: this.config.prefix,
        defaultJobOptions: this.config.defaultJobOptions,
      })
      const outage = new RedisOutageLog(this.logger, "The job queue's connection to Redis")
      this.#queue.on('error', this.#errorLog(this.#queue, outage, 'The job queue'))
    }
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
   * Creates or updates the timetabled jobs from the config, now (once the
   * queue first reaches Redis) and each time its connection is back, since
   * a Redis restarted without its data has forgotten them.
   */
  async registerSchedules() {
    if (!this.#schedulesFollowRedis) {
      this.#schedulesFollowRedis = true
      this.queue.getBackend().on('ready', () => {
        this.#upsertSchedules().catch((error) => {
          this.logger.warn({ err: error }, 'job schedules not registered again')
        })
      })
    }
    await this.#upsertSchedules()
  }

  async #upsertSchedules() {
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
    this.#workerOutage = new RedisOutageLog(this.logger, "The job worker's connection to Redis")
    this.#worker.on('error', this.#errorLog(this.#worker, this.#workerOutage, 'The job worker'))
    return this.#worker
  }

  /** A listener for a queue's or worker's errors that logs an outage of Redis once. */
  #errorLog(client: Queue | Worker, outage: RedisOutageLog, label: string) {
    client.getBackend().on('ready', () => outage.regained())
    return (error: Error) => {
      if (isRedisConnectionError(error)) outage.lost(error)
      else this.logger.warn({ err: error }, `${label} failed`)
    }
  }

  /**
   * Closes the worker and queue, giving up after a few seconds so that a
   * missing Redis cannot keep the process alive. While Redis is down the
   * worker does not wait for its running jobs, which could not record
   * their end (BullMQ runs them again as stalled jobs), and connections
   * still trying to reach Redis are dropped without waiting, since they
   * never report that they closed.
   */
  async close(timeoutMs = 3000) {
    const force = this.#workerOutage?.isDown ?? false
    await settlesWithin(
      Promise.allSettled([this.#worker?.close(force), this.#queue?.close()]),
      timeoutMs
    )
    const connections = [this.#worker, this.#queue].flatMap((client) => {
      const backend = client?.getBackend()
      return backend ? [backend.connection, backend.blockingConnection] : []
    })
    const dropping = connections.map((connection) => connection?.disconnect(false))
    await settlesWithin(Promise.allSettled(dropping), 1000)
    this.#worker = undefined
    this.#queue = undefined
  }
}

/** Whether `promise` settled within `ms` milliseconds. */
async function settlesWithin(promise: Promise<unknown>, ms: number) {
  const timedOut = Symbol('timed out')
  const timer = new Promise((resolve) => setTimeout(() => resolve(timedOut), ms).unref())
  return (await Promise.race([promise, timer])) !== timedOut
}
