import env from '#start/env'
import retentionConfig from '#config/retention'

/**
 * BullMQ settings. Connections are opened by the queue provider with
 * `maxRetriesPerRequest: null`, which BullMQ workers require.
 */
const queueConfig = {
  connection: {
    host: env.get('REDIS_HOST'),
    port: env.get('REDIS_PORT'),
    password: env.get('REDIS_PASSWORD') || undefined,
    db: env.get('REDIS_DB', 0),
  },
  prefix: `faceaccess:${env.get('NODE_ENV')}:bull`,
  queueName: 'default',
  /**
   * Run a worker inside the web process. Production sites may turn this off
   * and run "node ace queue:work" on other machines instead.
   */
  workerInWebProcess: env.get('QUEUE_WORKER', true),
  concurrency: 2,
  defaultJobOptions: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  },
  /**
   * Jobs run on a timetable (cron patterns in the server's time zone). A
   * worker registers them when it starts; Redis keeps one schedule per key
   * however many workers run.
   */
  schedules: [
    {
      key: 'prune-access-events',
      pattern: '15 3 * * *',
      job: 'prune-access-events',
      payload: { olderThanDays: retentionConfig.eventDays },
    },
    {
      key: 'prune-event-snapshots',
      pattern: '25 3 * * *',
      job: 'prune-event-snapshots',
      payload: { olderThanDays: retentionConfig.snapshotDays },
    },
    {
      key: 'erase-inactive-biometrics',
      pattern: '35 3 * * *',
      job: 'erase-inactive-biometrics',
      payload: { inactiveDays: retentionConfig.biometricDays },
    },
  ],
}

export default queueConfig
export type QueueConfig = typeof queueConfig
