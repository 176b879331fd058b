import { createHash } from 'node:crypto'
import logger from '@adonisjs/core/services/logger'
import redis from '@adonisjs/redis/services/main'
import { readInstancesFile } from '#plugin-host/instances_file'
import type { PluginHost } from '#plugin-host/plugin_host'
import { isRedisUnavailable } from '#services/redis_availability'

/**
 * "The plugins file changed", announced over Redis pub/sub by the process
 * that wrote it (the Settings pages), so that every other process using
 * the same file (other web nodes on the machine, `node ace queue:work`)
 * reads it again and puts it in force as the writer did. The channel is
 * named after the file's path: processes reading another file are not
 * concerned. Announcing is best effort; a process that missed it (Redis
 * away) reads the file when it next starts.
 */
export class PluginChangeNotices {
  static channelFor(file: string) {
    return `faceaccess:plugins:${createHash('sha256').update(file).digest('hex').slice(0, 16)}`
  }

  constructor(private file: string) {}

  async announce() {
    try {
      await redis.publish(
        PluginChangeNotices.channelFor(this.file),
        JSON.stringify({ at: Date.now() })
      )
    } catch (error) {
      logger.warn({ err: error, file: this.file }, 'plugins file change not announced')
    }
  }

  /**
   * Puts the file in force in `host` whenever a change is announced. The
   * writer hears its own announcement too, which changes nothing there:
   * instances whose entry did not change keep running.
   */
  follow(host: PluginHost) {
    const channel = PluginChangeNotices.channelFor(this.file)
    const handler = () => {
      const source = readInstancesFile(this.file, false)
      if (source.error) {
        logger.warn({ file: this.file, error: source.error }, 'changed plugins file not applied')
        return
      }
      host.replaceEntries(source.entries).then(
        ({ started, stopped }) =>
          logger.info({ started, stopped }, 'plugins file changed; instances replaced'),
        (error) => logger.error({ err: error }, 'changed plugins file not applied')
      )
    }
    redis.connection().subscribe(channel, handler, {
      onSubscription: () => {},
      onError: (error) => {
        if (!isRedisUnavailable(error)) logger.warn({ err: error }, 'plugins file changes unheard')
      },
    })
    return async () => {
      try {
        await redis.connection().unsubscribe(channel, handler)
      } catch (error) {
        logger.debug({ err: error }, 'plugins file changes: unsubscribed while Redis is away')
      }
    }
  }
}
