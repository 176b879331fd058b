import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * A queue worker in its own process, for sites that turn QUEUE_WORKER off
 * in the web process or want more workers.
 */
export default class QueueWork extends BaseCommand {
  static commandName = 'queue:work'
  static description = 'Run background jobs until stopped with Ctrl-C or SIGTERM'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  @flags.number({ description: 'Jobs run at the same time (default from config/queue.ts)' })
  declare concurrency?: number

  async run() {
    if (
      this.concurrency !== undefined &&
      !(Number.isInteger(this.concurrency) && this.concurrency > 0)
    ) {
      this.logger.error('--concurrency must be a whole number above 0')
      this.exitCode = 1
      return this.terminate()
    }

    /**
     * bin/console.ts terminates the app on SIGTERM only; SIGINT would
     * otherwise kill the process with jobs half done. Terminating closes
     * the worker through the queue provider, which lets running jobs finish.
     */
    this.app.listen('SIGINT', () => this.terminate())

    const queue = await this.app.container.make('queue')
    const worker = queue.startWorker(this.concurrency)
    await worker.waitUntilReady()
    await queue.registerSchedules()
    this.logger.info(
      `Processing jobs from the "${worker.name}" queue, ${worker.concurrency} at a time`
    )
  }
}
