import { test } from '@japa/runner'
import { QueueEvents, type Job } from 'bullmq'
import app from '@adonisjs/core/services/app'
import redis from '@adonisjs/redis/services/main'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import { UserFactory } from '#database/factories/user_factory'
import EraseInactiveBiometricsJob from '#jobs/erase_inactive_biometrics_job'
import PruneEventSnapshotsJob from '#jobs/prune_event_snapshots_job'
import { QueueService } from '#services/queue_service'
import type { QueueConfig } from '#config/queue'
import { SuiteRedis, until } from '#tests/helpers/redis_server'

/**
 * The Jobs page against the real queue. The last test stops the
 * redis-server the app uses and starts it again (SuiteRedis).
 */
const redisServer = await SuiteRedis.find()

async function queueEvents(cleanup: (handler: () => Promise<void>) => void) {
  const config = app.config.get<QueueConfig>('queue')
  const events = new QueueEvents(config.queueName, {
    connection: { ...config.connection, maxRetriesPerRequest: null },
    prefix: config.prefix,
  })
  cleanup(() => events.close())
  await events.waitUntilReady()
  return events
}

/** A job that fails at once: a retention period of no days is refused. */
async function failedJob(events: QueueEvents) {
  const queue = await app.container.make(QueueService)
  const id = await queue.dispatch(EraseInactiveBiometricsJob, { inactiveDays: 0 }, { attempts: 1 })
  const job = (await queue.queue.getJob(id))!
  await job.waitUntilFinished(events, 20_000).catch(() => undefined)
  return job
}

async function stateOf(job: Job) {
  const queue = await app.container.make(QueueService)
  return (await queue.queue.getJob(job.id!))!.getState()
}

test.group('Jobs page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    const queue = await app.container.make(QueueService)
    await queue.queue.clean(0, 1000, 'failed')
  })

  test('an administrator sees a failed job with its reason and attempts, and the timetable', async ({
    client,
    cleanup,
  }) => {
    const events = await queueEvents(cleanup)
    const job = await failedJob(events)
    const admin = await UserFactory.apply('admin').create()

    const page = await client.get('/admin/jobs').loginAs(admin)

    page.assertStatus(200)
    page.assertTextIncludes(`data-job="${job.id}" data-name="erase-inactive-biometrics"`)
    page.assertTextIncludes('Erase the faces of inactive people')
    page.assertTextIncludes('inactive for 0 days')
    page.assertTextIncludes('inactiveDays must be a whole number of days, at least 1, not 0')
    page.assertTextIncludes('1 of 1')
    page.assertTextIncludes('data-state="failed">1<')
    page.assertTextIncludes('data-key="erase-inactive-biometrics"')
    page.assertTextIncludes('data-key="prune-event-snapshots"')
    page.assertTextIncludes(`action="/admin/jobs/${job.id}/retry"`)
    page.assertTextIncludes('href="/admin/jobs"')

    const reader = await UserFactory.apply('admin').merge({ locale: 'zh' }).create()
    const chinese = await client.get('/admin/jobs').loginAs(reader)
    chinese.assertTextIncludes('删除长期未活动人员的人脸数据')
    chinese.assertTextIncludes('失败原因')
  })

  test('Retry runs a failed job again, audited; once its cause is fixed it completes', async ({
    client,
    assert,
    cleanup,
  }) => {
    const events = await queueEvents(cleanup)
    const job = await failedJob(events)
    const admin = await UserFactory.apply('admin').create()

    const again = await client
      .post(`/admin/jobs/${job.id}/retry`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    again.assertStatus(302)
    again.assertHeader('location', '/admin/jobs')
    await until(
      async () => (await stateOf(job)) === 'failed',
      'the retried job fails again',
      20_000
    )
    const queue = await app.container.make(QueueService)
    const reran = await queue.queue.getJob(job.id!)
    assert.equal(reran!.attemptsMade, 1, 'attempts count afresh')
    assert.isAbove(reran!.processedOn!, job.processedOn!, 'it ran again')

    // The cause fixed (as a corrected payload would): Retry now completes it.
    await reran!.updateData({ inactiveDays: 1095 })
    const fixed = await client
      .post(`/admin/jobs/${job.id}/retry`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    fixed.assertStatus(302)
    await until(async () => (await stateOf(job)) === 'completed', 'the job completes', 20_000)

    const entries = await AuditLog.query().where('action', 'job.retry').orderBy('id')
    assert.lengthOf(entries, 2)
    assert.equal(entries[0].userId, admin.id)
    assert.equal(entries[0].subjectId, String(job.id))
    assert.equal(entries[0].subjectLabel, 'erase-inactive-biometrics')
    assert.deepInclude(entries[0].before, {
      state: 'failed',
      failedReason: 'inactiveDays must be a whole number of days, at least 1, not 0',
    })

    const page = await client.get('/admin/jobs').loginAs(admin)
    page.assertTextIncludes(`data-job="${job.id}" data-name="erase-inactive-biometrics"`)
    page.assertTextIncludes('data-test="completed-job"')
    const log = await client.get('/admin/audit').loginAs(admin)
    log.assertTextIncludes(`ran the failed job erase-inactive-biometrics again`)
  })

  test('Remove takes a failed job off the list; a job that has not failed is left alone', async ({
    client,
    assert,
    cleanup,
  }) => {
    const events = await queueEvents(cleanup)
    const job = await failedJob(events)
    const admin = await UserFactory.apply('admin').create()

    const removed = await client
      .delete(`/admin/jobs/${job.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    removed.assertStatus(302)
    const queue = await app.container.make(QueueService)
    assert.isUndefined(await queue.queue.getJob(job.id!))
    assert.lengthOf(await AuditLog.query().where('action', 'job.remove'), 1)

    const gone = await client
      .post(`/admin/jobs/${job.id}/retry`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    gone.assertStatus(404)

    const done = await queue.dispatch(PruneEventSnapshotsJob, { olderThanDays: 90 })
    await (await queue.queue.getJob(done))!.waitUntilFinished(events, 20_000)
    const notFailed = await client
      .post(`/admin/jobs/${done}/retry`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    notFailed.assertStatus(302)
    assert.equal(await (await queue.queue.getJob(done))!.getState(), 'completed')
    assert.lengthOf(await AuditLog.query().where('action', 'job.retry'), 0)
  })

  test('auditors and operators neither see the page nor retry', async ({
    client,
    assert,
    cleanup,
  }) => {
    const events = await queueEvents(cleanup)
    const job = await failedJob(events)
    for (const role of ['auditor', 'operator'] as const) {
      const user = await UserFactory.merge({ role }).create()
      const page = await client.get('/admin/jobs').loginAs(user)
      page.assertStatus(403)
      const nav = await client.get('/admin').loginAs(user)
      assert.notInclude(nav.text(), 'href="/admin/jobs"', role)
      const retry = await client
        .post(`/admin/jobs/${job.id}/retry`)
        .loginAs(user)
        .withCsrfToken()
        .redirects(0)
      retry.assertStatus(403)
      const remove = await client
        .delete(`/admin/jobs/${job.id}`)
        .loginAs(user)
        .withCsrfToken()
        .redirects(0)
      remove.assertStatus(403)
    }
    assert.equal(await stateOf(job), 'failed')
    assert.lengthOf(await AuditLog.query().where('action', 'like', 'job.%'), 0)
  })

  test('failed attempts are retried after a growing delay, by default three times', async ({
    assert,
    cleanup,
  }) => {
    const queue = await app.container.make(QueueService)
    const plain = await queue.dispatch(PruneEventSnapshotsJob, { olderThanDays: 90 })
    const opts = (await queue.queue.getJob(plain))!.opts
    assert.equal(opts.attempts, 3)
    assert.deepEqual(opts.backoff, { type: 'exponential', delay: 2000 })

    const worker = queue.startWorker()
    const failures: number[] = []
    const id = await queue.dispatch(
      PruneEventSnapshotsJob,
      { olderThanDays: -1 },
      { attempts: 3, backoff: { type: 'exponential', delay: 400 } }
    )
    const record = (job: Job | undefined) => {
      if (job?.id === id) failures.push(Date.now())
    }
    worker.on('failed', record)
    cleanup(async () => {
      worker.off('failed', record)
    })
    await until(async () => failures.length === 3, 'three attempts failed', 20_000)

    assert.isAtLeast(failures[1] - failures[0], 400 - 50, 'the first retry waited')
    assert.isAtLeast(failures[2] - failures[1], 800 - 50, 'the second waited twice as long')
    assert.equal(await (await queue.queue.getJob(id))!.getState(), 'failed')
  })

  test('with Redis stopped the page says the queue is unreachable (503), and works again once it is back', async ({
    client,
    cleanup,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    cleanup(async () => {
      if (!redisServer.running) await redisServer.start()
      await until(
        async () =>
          Object.values(redis.activeConnections).every(
            (connection) => connection.status === 'ready'
          ),
        'every Redis connection of the app is ready again',
        15_000
      )
    })
    await redisServer.stop()

    const down = await client.get('/admin/jobs').loginAs(admin)
    down.assertStatus(503)
    down.assertTextIncludes('The job queue cannot be reached')
    down.assertTextIncludes('href="/admin/jobs"')

    const retry = await client
      .post('/admin/jobs/1/retry')
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    retry.assertStatus(302)
    retry.assertHeader('location', '/admin/jobs')

    await redisServer.start()
    const queue = await app.container.make(QueueService)
    await until(
      async () => (await queue.queue.getJobCounts().catch(() => null)) !== null,
      'the queue reaches Redis again',
      15_000
    )
    const up = await client.get('/admin/jobs').loginAs(admin)
    up.assertStatus(200)
    up.assertTextIncludes('data-test="job-counts"')
  })
})
