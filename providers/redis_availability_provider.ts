import type { ApplicationService } from '@adonisjs/core/types'
import { watchRedisConnections } from '#services/redis_availability'

/**
 * Lets the app outlive Redis outages (see `watchRedisConnections`), however
 * it runs. A server process opens its Redis connection once it is ready,
 * so that its first requests find the connection up rather than opening.
 */
export default class RedisAvailabilityProvider {
  constructor(protected app: ApplicationService) {}

  async boot() {
    const redis = await this.app.container.make('redis')
    watchRedisConnections(redis, await this.app.container.make('logger'))
  }

  async ready() {
    const env = this.app.getEnvironment()
    if (env !== 'web' && env !== 'test') return
    const redis = await this.app.container.make('redis')
    redis.connection()
  }

  /**
   * Runs before the Redis provider quits the connections (providers shut
   * down in reverse order). ioredis answers QUIT on a connection that is
   * down by closing it at once, but only while the connection may queue
   * commands; otherwise quitting fails and the connection keeps retrying.
   */
  async shutdown() {
    const redis = await this.app.container.make('redis')
    for (const connection of Object.values(redis.activeConnections)) {
      for (const io of [connection?.ioConnection, connection?.ioSubscriberConnection]) {
        if (io && io.status !== 'ready') io.options.enableOfflineQueue = true
      }
    }
  }
}
