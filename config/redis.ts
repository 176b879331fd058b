import env from '#start/env'
import { defineConfig } from '@adonisjs/redis'
import type { InferConnections } from '@adonisjs/redis/types'

const redisConfig = defineConfig({
  connection: 'main',
  connections: {
    main: {
      host: env.get('REDIS_HOST'),
      port: env.get('REDIS_PORT'),
      password: env.get('REDIS_PASSWORD', ''),
      db: env.get('REDIS_DB', 0),
      keyPrefix: `faceaccess:${env.get('NODE_ENV')}:`,
      /**
       * Redis may blink (a restart, a failover, the network). Commands then
       * fail within a second instead of waiting for it, and callers answer
       * that Redis is unavailable: a command waiting for the connection
       * fails at the first failed reconnection attempt, an unanswered one
       * after a second, a connection attempt gives up after two. Once a
       * connection has been ready, commands fail at once while it is down
       * (providers/redis_availability_provider.ts). Reconnection is tried
       * every two seconds at most, so everything resumes soon after Redis
       * is back.
       */
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
      connectTimeout: 2000,
      retryStrategy(times) {
        return Math.min(times * 200, 2000)
      },
    },
  },
})

export default redisConfig

declare module '@adonisjs/redis/types' {
  export interface RedisConnections extends InferConnections<typeof redisConfig> {}
}
