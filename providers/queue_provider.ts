import type { ApplicationService } from '@adonisjs/core/types'
import { QueueService } from '#services/queue_service'

declare module '@adonisjs/core/types' {
  interface ContainerBindings {
    queue: QueueService
  }
}

/**
 * Registers the BullMQ queue. The in-process worker starts only when the app
 * serves HTTP or runs tests, never while it boots for tooling (ace commands,
 * codegen); "node ace queue:work" starts one on its own.
 */
export default class QueueProvider {
  #instance?: QueueService

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(QueueService, async () => {
      const config = this.app.config.get<import('#config/queue').QueueConfig>('queue')
      const logger = await this.app.container.make('logger')
      const { jobs } = await import('#generated/jobs')
      this.#instance = new QueueService(config, logger, jobs)
      return this.#instance
    })
    this.app.container.alias('queue', QueueService)
  }

  async ready() {
    const env = this.app.getEnvironment()
    const workerInWebProcess = this.app.config.get<boolean>('queue.workerInWebProcess', true)
    if ((env === 'web' || env === 'test') && workerInWebProcess) {
      const queue = await this.app.container.make(QueueService)
      queue.startWorker()
      // Not awaited: with Redis down at start, registering waits for it while the server serves.
      const logger = await this.app.container.make('logger')
      queue.registerSchedules().catch((error) => {
        logger.warn({ err: error }, 'job schedules not registered')
      })
    }
  }

  async shutdown() {
    const { default: SyncDevicesJob } = await import('#jobs/sync_devices_job')
    await SyncDevicesJob.settled(3000)
    await this.#instance?.close()
  }
}
