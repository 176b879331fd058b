import { test } from '@japa/runner'
import { decodeImage, type FaceAnalysisRequest } from '#plugin-sdk'
import sharp from 'sharp'
import { pipelineSettings } from '../face_engine_driver.js'
import { verifiedModels, type ModelEntry } from '../model_manifest.js'
import { pipelineModels, type PipelineJob } from '../pipeline.js'
import { EngineWorkerError, SessionPool, type PoolOptions } from '../session_pool.js'
import type { Cue } from './stand_in_worker.js'

/**
 * The pool around real onnxruntime workers. Bad jobs come from a stand-in
 * worker that misbehaves on cue (stand_in_worker.ts), since the engine has
 * no bad job left to give; the real engine worker is killed in the middle
 * of its inference. Each test ends with this process still alive, which is
 * the point: ending a worker thread inside onnxruntime, or one running out
 * of heap, could abort it.
 */
const settings = pipelineSettings({})
const standIn = new URL('./stand_in_worker.ts', import.meta.url)
const tiny = { width: 1, height: 1, data: new Uint8Array(3) }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function cue(behaviour: Cue): PipelineJob {
  return { image: tiny, scope: 'all', request: behaviour as unknown as FaceAnalysisRequest }
}

async function until(condition: () => boolean, within = 5_000) {
  const deadline = Date.now() + within
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${within} ms`)
    await sleep(20)
  }
}

test.group('Session pool', (group) => {
  let entries: Record<string, ModelEntry>
  let pool: SessionPool | undefined

  group.setup(async () => {
    entries = await verifiedModels(settings.modelsDir, pipelineModels(settings))
  })
  group.each.teardown(async () => {
    await pool?.stop()
    pool = undefined
  })

  function start(options: Partial<PoolOptions> = {}) {
    return SessionPool.start(settings, entries, {
      size: 2,
      jobTimeoutMs: 5_000,
      workerHeapMb: 64,
      script: standIn,
      ...options,
    })
  }

  test('a job past its deadline fails alone while the other worker keeps serving', async ({
    assert,
  }) => {
    pool = await start({ jobTimeoutMs: 300 })
    const startedAt = Date.now()
    const stuck = pool.run(cue({ cue: 'spin', ms: 1_500 })).catch((error) => error)
    const served = []
    for (let i = 0; i < 5; i++) served.push(await pool.run(cue({ cue: 'infer', runs: 3 })))

    const error = await stuck
    assert.instanceOf(error, EngineWorkerError)
    assert.equal(error.message, 'The engine did not finish a job within 300 ms')
    assert.isBelow(Date.now() - startedAt, 1_200, 'failed at its deadline, not when it ended')
    assert.lengthOf(served, 5)
    assert.equal(pool.status.replaced, 1)

    await until(() => pool!.status.workers === 2)
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
  })

  test('a worker killed in the middle of inference is replaced, and the process lives', async ({
    assert,
  }) => {
    pool = await start({ size: 1, jobTimeoutMs: 100 })
    for (let round = 0; round < 10; round++) {
      const outcome = await pool.run(cue({ cue: 'infer', runs: 100_000 })).catch((error) => error)
      assert.instanceOf(outcome, EngineWorkerError)
    }
    assert.equal(pool.status.replaced, 10)
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
  }).timeout(60_000)

  test('a worker out of its heap fails its job alone and is replaced', async ({ assert }) => {
    pool = await start()
    const [hoarder, neighbour] = await Promise.allSettled([
      pool.run(cue({ cue: 'allocate' })),
      pool.run(cue({ cue: 'infer', runs: 20 })),
    ])
    assert.equal(hoarder.status, 'rejected')
    if (hoarder.status === 'rejected') {
      assert.instanceOf(hoarder.reason, EngineWorkerError)
      assert.include(hoarder.reason.message, 'JavaScript heap out of memory')
    }
    assert.deepEqual(neighbour, { status: 'fulfilled', value: [] })
    assert.equal(pool.status.replaced, 1)
    assert.isNull(pool.status.broken)
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
  })

  test('a crashed worker is replaced at once and the pool keeps taking jobs', async ({
    assert,
  }) => {
    pool = await start({ size: 1 })
    const crashed = pool.run(cue({ cue: 'crash' }))
    await assert.rejects(() => crashed, 'An engine worker was ended by SIGSEGV')
    assert.equal(pool.status.starting, 1, 'its replacement is on its way')
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
    assert.isNull(pool.status.broken)
  })

  test('a reply for another job neither settles nor strands the job in flight', async ({
    assert,
  }) => {
    pool = await start({ size: 1 })
    assert.deepEqual(await pool.run(cue({ cue: 'stray_reply' })), [{ stray: false }] as never)
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
  })

  test('a worker past its memory ceiling finishes its job and leaves for a fresh one', async ({
    assert,
  }) => {
    pool = await start({ size: 1, workerRssMb: 400 })
    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
    const [before] = pool.status.residentMb
    assert.isBelow(before, 400)

    // Past the ceiling: a replacement starts loading while this worker takes the next job.
    assert.deepEqual(await pool.run(cue({ cue: 'grow', mb: 400 })), [])
    assert.equal(pool.status.starting, 1)
    const held = await pool.run(cue({ cue: 'spin', ms: 2_000 }))
    assert.deepEqual(held, [], 'the job the old worker held was answered')
    await until(() => pool!.status.recycled === 1)

    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
    assert.equal(pool.status.workers, 1)
    assert.equal(pool.status.replaced, 0, 'no job failed for it')
    assert.isBelow(pool.status.residentMb[0], 400)
    assert.match(pool.status.lastRecycled!, /^it reached \d+ MB resident \(ceiling 400 MB\)$/)
  }).timeout(30_000)

  test('a worker lost while its renewal loads is replaced once, not twice', async ({ assert }) => {
    pool = await start({ size: 1, workerRssMb: 400 })
    assert.deepEqual(await pool.run(cue({ cue: 'grow', mb: 400 })), [])
    assert.equal(pool.status.starting, 1)
    await assert.rejects(
      () => pool!.run(cue({ cue: 'crash' })),
      'An engine worker was ended by SIGSEGV'
    )

    assert.deepEqual(await pool.run(cue({ cue: 'infer', runs: 1 })), [])
    await until(() => pool!.status.starting === 0)
    await sleep(300)
    assert.equal(pool.status.workers, 1)
    assert.equal(pool.status.starting, 0)
    assert.equal(pool.status.replaced, 1)
    assert.equal(pool.status.recycled, 0)
  }).timeout(30_000)

  test('workers that keep growing are renewed under load without a job failing', async ({
    assert,
  }) => {
    pool = await start({ workerRssMb: 350 })
    const jobs: Cue[] = Array.from({ length: 80 }, (_, index) =>
      index % 4 === 0 ? { cue: 'grow', mb: 50 } : { cue: 'infer', runs: 2 }
    )
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map(async (lane) => {
        for (const job of jobs.filter((_, index) => index % 3 === lane)) await pool!.run(cue(job))
      })
    )
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'fulfilled']
    )
    await until(() => pool!.status.workers === 2 && pool!.status.starting === 0, 20_000)
    assert.isAtLeast(pool.status.recycled, 2)
    assert.equal(pool.status.replaced, 0)
    for (const resident of pool.status.residentMb) assert.isBelow(resident, 350 + 50)
  }).timeout(60_000)

  test('in a storm of bad jobs each job is settled, and only the bad ones fail', async ({
    assert,
  }) => {
    pool = await start({ jobTimeoutMs: 300 })
    const bad: Cue[] = [{ cue: 'crash' }, { cue: 'spin', ms: 600 }, { cue: 'allocate' }]
    const jobs = Array.from({ length: 30 }, (_, index) =>
      index % 5 === 2 ? bad[index % 3] : { cue: 'infer' as const, runs: 2 }
    )
    const outcomes = await Promise.allSettled(jobs.map((job) => pool!.run(cue(job))))

    const failed = jobs.filter((_, index) => outcomes[index].status === 'rejected')
    assert.deepEqual(
      failed.map((job) => job.cue),
      jobs.filter((job) => job.cue !== 'infer').map((job) => job.cue)
    )
    assert.equal(pool.status.replaced, failed.length)
  }).timeout(60_000)
})

test.group('Session pool on the real engine', (group) => {
  let entries: Record<string, ModelEntry>
  let large: PipelineJob

  group.setup(async () => {
    entries = await verifiedModels(settings.modelsDir, pipelineModels(settings))
    const bytes = await sharp({
      create: { width: 7_000, height: 5_000, channels: 3, background: '#808080' },
    })
      .composite([{ input: 'tests/fixtures/pairs/kit_harington_02.jpg', top: 2_000, left: 3_000 }])
      .jpeg()
      .toBuffer()
    large = { image: await decodeImage(bytes), scope: 'all', request: { feature: true } }
  })

  test('workers killed in the middle of a job are replaced, and the process lives', async ({
    assert,
  }) => {
    const pool = await SessionPool.start(settings, entries, {
      size: 2,
      jobTimeoutMs: 50,
      workerHeapMb: 256,
    })
    try {
      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.allSettled([pool.run(large), pool.run(large)])
        for (const outcome of outcomes) {
          assert.equal(outcome.status, 'rejected')
          if (outcome.status === 'rejected') assert.match(outcome.reason.message, /within 50 ms/)
        }
        await until(() => pool.status.workers === 2, 20_000)
      }
      assert.equal(pool.status.replaced, 6)
    } finally {
      await pool.stop()
    }
  }).timeout(60_000)

  test('stopping lets the jobs in flight finish and fails the queued ones', async ({ assert }) => {
    const pool = await SessionPool.start(settings, entries, {
      size: 2,
      jobTimeoutMs: 5_000,
      workerHeapMb: 256,
    })
    const jobs = [pool.run(large), pool.run(large), pool.run(large)]
    await sleep(20)
    await pool.stop()
    const outcomes = await Promise.allSettled(jobs)
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'rejected']
    )
    await assert.rejects(() => pool.run(large), 'The engine is stopping')
  }).timeout(30_000)
})
