import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { Queue, QueueEvents } from 'bullmq'
import app from '@adonisjs/core/services/app'
import AccessEvent from '#models/access_event'
import PruneAccessEventsJob from '#jobs/prune_access_events_job'
import type { QueueConfig } from '#config/queue'
import { until } from '#tests/helpers/redis_server'

/**
 * Where jobs run: a web server started with QUEUE_WORKER=false runs none,
 * and `node ace queue:work` beside it runs what is queued. Both are real
 * processes on this test's database, with a Redis database of their own
 * (REDIS_DB=1) so that the test process's own worker takes no job of
 * theirs, and a storage folder of their own for the server's start-up
 * sweep.
 */
const redisDb = 1

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function start(args: string[], extraEnv: Record<string, string>) {
  const output: string[] = []
  const child = spawn(process.execPath, args, {
    cwd: app.makePath(),
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (chunk) => output.push(String(chunk)))
  child.stderr!.on('data', (chunk) => output.push(String(chunk)))
  return { child, output }
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

test.group('Queue workers', () => {
  test('a web server with QUEUE_WORKER=false runs no job; node ace queue:work runs it', async ({
    assert,
    cleanup,
  }) => {
    const config = app.config.get<QueueConfig>('queue')
    const connection = { ...config.connection, db: redisDb, maxRetriesPerRequest: null }
    const queue = new Queue(config.queueName, { connection, prefix: config.prefix })
    const events = new QueueEvents(config.queueName, { connection, prefix: config.prefix })
    cleanup(async () => {
      await queue.obliterate({ force: true })
      await queue.close()
      await events.close()
    })
    await queue.obliterate({ force: true })
    await events.waitUntilReady()
    // Redis lists the clients of all its databases, the test process's worker among them.
    const workersOnOurDb = async () => {
      const clients = await queue.getWorkers()
      return clients.filter((client) => client.db === String(redisDb))
    }

    const folder = await mkdtemp(join(app.makePath('tmp'), 'queue-worker-'))
    cleanup(() => rm(folder, { recursive: true, force: true }))
    const pluginsFile = join(folder, 'plugins.json')
    await writeFile(pluginsFile, '[]')
    const port = await freePort()
    const childEnv = {
      REDIS_DB: String(redisDb),
      QUEUE_WORKER: 'false',
      PORT: String(port),
      APP_URL: `http://127.0.0.1:${port}`,
      PLUGINS_FILE: pluginsFile,
      STORAGE_DIR: join(folder, 'storage'),
    }

    const old = await AccessEvent.create({
      decision: 'denied',
      reason: 'unknown_face',
      method: 'face',
      occurredAt: DateTime.now().minus({ days: 400 }),
      receivedAt: DateTime.now().minus({ days: 400 }),
    })
    cleanup(async () => {
      await AccessEvent.query().where('id', old.id).delete()
    })

    const web = start(['--import=@poppinss/ts-exec', 'bin/server.ts'], childEnv)
    cleanup(() => stop(web.child))
    await until(
      async () => {
        if (web.child.exitCode !== null)
          throw new Error(`the server exited:\n${web.output.join('')}`)
        const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null)
        return response !== null
      },
      'the web server answers',
      90_000
    )

    const job = await queue.add(PruneAccessEventsJob.jobName, { olderThanDays: 365 })
    // A worker names itself to Redis; the server has none to name.
    assert.lengthOf(await workersOnOurDb(), 0)
    assert.equal(await job.getState(), 'waiting')
    assert.isNotNull(await AccessEvent.find(old.id))

    const worker = start(['ace', 'queue:work', '--concurrency=1'], childEnv)
    cleanup(() => stop(worker.child))
    const result = await job.waitUntilFinished(events, 90_000)

    assert.deepEqual(result, { removed: 1 })
    assert.isNull(await AccessEvent.find(old.id))
    assert.lengthOf(await workersOnOurDb(), 1, 'the queue:work process alone')
    const scheduledPattern = async () => {
      const scheduler = await queue.getJobScheduler('erase-inactive-biometrics')
      return scheduler?.pattern
    }
    await until(
      async () => (await scheduledPattern()) === '35 3 * * *',
      'queue:work registers the timetable',
      30_000
    )

    await stop(worker.child)
    assert.equal(worker.child.exitCode, 0, worker.output.join(''))
    assert.include(worker.output.join(''), 'Processing jobs from the "default" queue, 1 at a time')
  }).timeout(180_000)
})
