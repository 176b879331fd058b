import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { QueueEvents } from 'bullmq'
import app from '@adonisjs/core/services/app'
import AccessEvent from '#models/access_event'
import PruneAccessEventsJob from '#jobs/prune_access_events_job'
import { QueueService } from '#services/queue_service'
import type { QueueConfig } from '#config/queue'

test.group('Background jobs', (group) => {
  group.each.teardown(async () => {
    await AccessEvent.query().delete()
  })

  async function eventAt(occurredAt: DateTime) {
    return AccessEvent.create({
      decision: 'denied',
      reason: 'unknown_face',
      method: 'face',
      occurredAt,
      receivedAt: occurredAt,
    })
  }

  test('the in-process worker runs the retention job through Redis', async ({
    assert,
    cleanup,
  }) => {
    const old = await eventAt(DateTime.now().minus({ days: 400 }))
    const recent = await eventAt(DateTime.now().minus({ days: 2 }))

    const queue = await app.container.make(QueueService)
    assert.isTrue(queue.workerRunning)
    const config = app.config.get<QueueConfig>('queue')
    const events = new QueueEvents(config.queueName, {
      connection: { ...config.connection, maxRetriesPerRequest: null },
      prefix: config.prefix,
    })
    cleanup(() => events.close())
    await events.waitUntilReady()

    const id = await queue.dispatch(PruneAccessEventsJob, { olderThanDays: 365 })
    const job = await queue.queue.getJob(id)
    const result = await job!.waitUntilFinished(events, 10_000)

    assert.deepEqual(result, { removed: 1 })
    assert.isNull(await AccessEvent.find(old.id))
    assert.isNotNull(await AccessEvent.find(recent.id))
  })

  test('the retention schedule is registered in Redis', async ({ assert }) => {
    const queue = await app.container.make(QueueService)
    const scheduler = await queue.queue.getJobScheduler('prune-access-events')
    assert.equal(scheduler?.pattern, '15 3 * * *')
    assert.equal(scheduler?.name, 'prune-access-events')
  })
})
