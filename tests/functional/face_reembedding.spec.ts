import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { Queue } from 'bullmq'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import Face from '#models/face'
import User from '#models/user'
import { PersonFactory } from '#database/factories/person_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
import { commandLineActor } from '#services/audit_trail'
import { decodeFeature } from '#faces/feature_blob'
import { FaceReembedding } from '#faces/face_reembedding'
import { ModelInForce } from '#faces/model_in_force'
import {
  enrolPhotoOf,
  grant,
  post,
  resetTerminalState,
  tokenFor,
  unitVector,
} from '#tests/helpers/terminal'
import { embeddingBytes } from '#faces/face_data'
import type { QueueConfig } from '#config/queue'
import { migrate, sqliteNow, startServer, stopServer } from '../../bench/support/bench_server.js'

const oldModel = 'mobileface'
const pairs = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

/** The faces as a site that enrolled them under `mobileface` has them. */
async function siteUnder(model: string) {
  await new ModelInForce().update({ modelInForce: model, targetModel: null, startedAt: null })
  ModelInForce.forget()
}

async function identify(client: ApiClient, device: Device, picture: Buffer) {
  const token = await tokenFor(client, device)
  const response = await post(client, 'faceIdentify', { token }, 'multipart', device, {
    image: { data: picture },
  })
  return response.body()
}

async function getDbs(client: ApiClient, device: Device, since?: number) {
  const token = await tokenFor(client, device)
  const response = await post(
    client,
    'getDbs',
    { deviceName: device.name, deviceSN: device.serialNumber, token, since },
    'json',
    device
  )
  return response.body()
}

test.group('Re-embedding the faces for a new recognition model', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.teardown(() => ModelInForce.forget())
  group.each.setup(() => {
    const batchSize = FaceReembedding.batchSize
    FaceReembedding.batchSize = 2
    return () => {
      FaceReembedding.batchSize = batchSize
    }
  })

  test('faces of mobileface go to the default model while faceIdentify keeps naming the right person, with no failed call', async ({
    client,
    assert,
  }) => {
    await siteUnder(oldModel)
    const device = await DeviceFactory.apply('approved').create()
    const kit = await PersonFactory.apply('consented').merge({ username: 'kit' }).create()
    const obama = await PersonFactory.apply('consented').merge({ username: 'obama' }).create()
    const biden = await PersonFactory.apply('consented').merge({ username: 'biden' }).create()
    const late = await PersonFactory.apply('consented').merge({ username: 'late' }).create()
    await grant([kit, obama, biden, late], [device])
    await enrolPhotoOf(kit, await pairs('kit_harington_01.jpg'))
    await enrolPhotoOf(kit, await pairs('kit_harington_03.jpg'))
    await enrolPhotoOf(obama, await pairs('barack_obama_01.jpg'))
    await enrolPhotoOf(biden, await pairs('joe_biden_01.jpg'))
    const before = await Face.all()
    assert.deepEqual([...new Set(before.map((face) => face.modelId))], [oldModel])

    const probe = await pairs('kit_harington_02.jpg')
    const first = await identify(client, device, probe)
    assert.include(first, { code: 0, decision: 'granted' })
    assert.equal(first.person.username, 'kit')
    const synced = await getDbs(client, device)
    assert.equal(synced.code, 0)

    const answers: { code: number; username: string | null }[] = []
    let running = true
    const loop = (async () => {
      while (running) {
        const answer = await identify(client, device, probe)
        answers.push({ code: answer.code, username: answer.person?.username ?? null })
      }
    })()

    const reembedding = await app.container.make(FaceReembedding)
    let enrolledMeanwhile: Face | null = null
    let progressSeen = 0
    const report = await reembedding.run(commandLineActor(), defaultEmbedder, async (progress) => {
      progressSeen++
      assert.equal(progress.targetModel, defaultEmbedder)
      if (!enrolledMeanwhile) {
        // Enrolled during the job, with the model still in force.
        enrolledMeanwhile = await enrolPhotoOf(late, await pairs('alex_lacamoire_01.jpg'))
        assert.equal(enrolledMeanwhile.modelId, oldModel)
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    })
    const afterSwitch = answers.length
    while (answers.length < afterSwitch + 5) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    running = false
    await loop

    assert.isAbove(progressSeen, 1)
    assert.isAbove(afterSwitch, 3)
    assert.deepEqual(
      answers.filter((answer) => answer.code !== 0 || answer.username !== 'kit'),
      []
    )
    assert.include(report, { target: defaultEmbedder, staged: 5, unavailable: 0, switched: 5 })
    assert.isTrue(report.modelSwitched)

    const after = await Face.all()
    assert.lengthOf(after, 5)
    for (const face of after)
      assert.include(face.$attributes, {
        modelId: defaultEmbedder,
        dimension: featureLength(defaultEmbedder),
      })
    assert.deepEqual(
      after.map((face) => face.id).sort(),
      [...before.map((face) => face.id), enrolledMeanwhile!.id].sort()
    )
    const state = await new ModelInForce().state()
    assert.include(state, { modelInForce: defaultEmbedder, targetModel: null, generation: 1 })
    const staged = await db.from('face_features').count('* as total').first()
    assert.equal(Number(staged.total), 0)
    const audit = await AuditLog.query().where('action', 'face.reembed')
    assert.lengthOf(audit, 1)
    assert.deepInclude(audit[0].after, { model: defaultEmbedder, faces: 5, unavailable: 0 })

    const since = await getDbs(client, device, synced.revision)
    assert.include(since, { code: 0, full: false })
    assert.deepEqual(
      [...new Set(since.names.map((entry: { username: string }) => entry.username))].sort(),
      ['biden', 'kit', 'late', 'obama']
    )
    for (const entry of since.names) {
      const feature = decodeFeature(entry.faceData)
      assert.isTrue(feature.ok)
      if (feature.ok) assert.equal(feature.feature.model, defaultEmbedder)
    }
    const stranger = await identify(client, device, await pairs('joe_biden_02.jpg'))
    assert.equal(stranger.person?.username, 'biden')
  })

  test('faces without a photo are listed for re-enrolment, a repeated job changes nothing and a face enrolled across the switch is caught up', async ({
    client,
    assert,
  }) => {
    await siteUnder(oldModel)
    const kit = await PersonFactory.apply('consented').merge({ username: 'kit' }).create()
    const nobody = await PersonFactory.apply('consented')
      .merge({ username: 'no.photo', displayName: 'No Photo' })
      .create()
    const kept = await enrolPhotoOf(kit, await pairs('kit_harington_01.jpg'))
    const lost = await Face.create({
      personId: nobody.id,
      embedding: embeddingBytes(unitVector(7)),
      engine: 'engine',
      modelId: oldModel,
      dimension: 128,
      source: 'photo',
      imagePath: null,
    })

    const reembedding = await app.container.make(FaceReembedding)
    const report = await reembedding.run(commandLineActor(), defaultEmbedder)
    assert.deepEqual(report, {
      target: defaultEmbedder,
      staged: 2,
      unavailable: 1,
      switched: 1,
      modelSwitched: true,
    })
    await kept.refresh()
    await lost.refresh()
    assert.equal(kept.modelId, defaultEmbedder)
    assert.equal(lost.modelId, oldModel, 'a face without a photo keeps its features')
    const listed = await reembedding.toReenrol()
    assert.deepEqual(listed, [
      {
        faceId: lost.id,
        personId: nobody.id,
        username: 'no.photo',
        displayName: 'No Photo',
        model: oldModel,
        reason: 'the enrolment photo was not kept',
      },
    ])

    const revision = await db.from('revision_counters').where('name', 'face_db').first()
    const again = await reembedding.run(commandLineActor(), defaultEmbedder)
    assert.deepEqual(again, {
      target: defaultEmbedder,
      staged: 0,
      unavailable: 0,
      switched: 0,
      modelSwitched: false,
    })
    assert.deepEqual(await db.from('revision_counters').where('name', 'face_db').first(), revision)
    assert.lengthOf(await AuditLog.query().where('action', 'face.reembed'), 1)
    const state = await new ModelInForce().state()
    assert.equal(state.generation, 1)

    // An enrolment whose feature was made just before the switch lands after it: the catch-up moves it.
    const late = await Face.create({
      personId: kit.id,
      embedding: embeddingBytes(unitVector(9)),
      engine: 'engine',
      modelId: oldModel,
      dimension: 128,
      source: 'photo',
      imagePath: kept.imagePath,
    })
    const catchUp = await reembedding.run(commandLineActor(), defaultEmbedder, undefined, {
      catchUp: true,
    })
    assert.include(catchUp, { staged: 1, switched: 1, modelSwitched: false })
    await late.refresh()
    assert.include(late.$attributes, {
      modelId: defaultEmbedder,
      dimension: featureLength(defaultEmbedder),
    })
    await kit.refresh()
    assert.isAbove(Number(kit.revision), Number(revision.value))

    const admin = await User.create({
      email: 'admin@reembedding.test',
      fullName: 'Reembedding Admin',
      password: 'correct horse battery staple',
      role: 'admin',
      locale: 'en',
    })
    const page = await client.get('/admin/settings').loginAs(admin)
    page.assertStatus(200)
    page.assertTextIncludes(`data-test="model-in-force">${defaultEmbedder}`)
    page.assertTextIncludes(`data-face="${lost.id}"`)
    page.assertTextIncludes(`href="/admin/people/${nobody.id}"`)
    page.assertTextIncludes('the enrolment photo was not kept')
  })

  test('a run whose target a newer configuration replaced stops without switching', async ({
    assert,
  }) => {
    await siteUnder(oldModel)
    const kit = await PersonFactory.apply('consented').merge({ username: 'kit' }).create()
    const obama = await PersonFactory.apply('consented').merge({ username: 'obama' }).create()
    await enrolPhotoOf(kit, await pairs('kit_harington_01.jpg'))
    await enrolPhotoOf(kit, await pairs('kit_harington_03.jpg'))
    await enrolPhotoOf(obama, await pairs('barack_obama_01.jpg'))

    const reembedding = await app.container.make(FaceReembedding)
    const report = await reembedding.run(commandLineActor(), defaultEmbedder, async () => {
      // The server restarted meanwhile with yet another model, whose run took over.
      await new ModelInForce().update({ targetModel: 'faceres' })
    })

    assert.include(report, { staged: 3, switched: 0, modelSwitched: false })
    const state = await new ModelInForce().state()
    assert.include(state, { modelInForce: oldModel, generation: 0 })
    const models = await Face.query().distinct('model_id')
    assert.deepEqual(
      models.map((face) => face.modelId),
      [oldModel]
    )
    assert.lengthOf(await AuditLog.query().where('action', 'face.reembed'), 0)
  })

  test('the job is queued once per switch, however often it is asked for', async ({
    client,
    assert,
  }) => {
    await siteUnder(oldModel)
    const reembedding = await app.container.make(FaceReembedding)
    const queue = await app.container.make('queue')
    const admin = await User.create({
      email: 'admin@reembedding.test',
      fullName: 'Reembedding Admin',
      password: 'correct horse battery staple',
      role: 'admin',
      locale: 'en',
    })
    const operator = await User.create({
      email: 'operator@reembedding.test',
      fullName: 'Reembedding Operator',
      password: 'correct horse battery staple',
      role: 'operator',
      locale: 'en',
    })
    const jobId = `reembed-0-${defaultEmbedder}`
    await queue.queue.remove(jobId)
    await queue.queue.pause()
    try {
      const refused = await client
        .post('/admin/settings/reembedding')
        .withCsrfToken()
        .loginAs(operator)
      refused.assertStatus(403)

      const page = await client.get('/admin/settings').loginAs(admin)
      page.assertTextIncludes(`data-test="model-in-force">${oldModel}`)
      page.assertTextIncludes(`data-test="configured-model">${defaultEmbedder}`)
      page.assertTextIncludes('data-test="start-reembedding"')

      const first = await client
        .post('/admin/settings/reembedding')
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
      first.assertStatus(302)
      const again = await reembedding.start(defaultEmbedder, commandLineActor())
      assert.equal(again?.jobId, jobId)
      const jobs = await queue.queue.getJobs(['waiting', 'prioritized', 'delayed'])
      assert.deepEqual(
        jobs.filter((job) => job.name === 'reembed-faces').map((job) => job.id),
        [jobId]
      )
    } finally {
      await queue.queue.remove(jobId)
      await queue.queue.resume()
    }
    assert.isNull(await reembedding.start(oldModel, commandLineActor()))
  })
})

test.group('Re-embedding: the worker killed mid-way', () => {
  test('a SIGKILLed queue worker leaves staged features that the next worker keeps, and the switch happens once', async ({
    assert,
    cleanup,
  }) => {
    const tag = `reembed_crash_${process.pid}`
    const dbFile = `${tag}.sqlite3`
    const storage = `tmp/${tag}-storage`
    const port = String(Number(process.env.PORT ?? 3333) + 72)
    const env = {
      DB_CONNECTION: 'sqlite',
      DB_FILE: dbFile,
      STORAGE_DIR: storage,
      // Its own queue and keys: the worker of this test process must not take the job.
      REDIS_DB: '1',
      LOG_LEVEL: 'warn',
    }
    const queueConfig = app.config.get<QueueConfig>('queue')
    const queue = new Queue(queueConfig.queueName, {
      connection: { ...queueConfig.connection, db: 1, maxRetriesPerRequest: null },
      prefix: queueConfig.prefix,
    })
    const processes: ChildProcess[] = []
    cleanup(async () => {
      for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL')
      await queue.obliterate({ force: true }).catch(() => {})
      await queue.close()
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(app.makePath('tmp', `${dbFile}${suffix}`), { force: true })
      }
      await rm(app.makePath(storage), { recursive: true, force: true })
    })
    await queue.obliterate({ force: true })

    const previous = {
      DB_CONNECTION: process.env.DB_CONNECTION,
      STORAGE_DIR: process.env.STORAGE_DIR,
    }
    Object.assign(process.env, { DB_CONNECTION: env.DB_CONNECTION, STORAGE_DIR: env.STORAGE_DIR })
    try {
      migrate(dbFile)
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }

    // A site enrolled under mobileface: 40 faces, each with its stored photo.
    const fixtures = await readdir(app.makePath('tests/fixtures/pairs'))
    const photos = fixtures.filter((name) => /\.(png|jpe?g)$/.test(name))
    await mkdir(app.makePath(storage, 'faces'), { recursive: true })
    const total = 40
    const database = new DatabaseSync(app.makePath('tmp', dbFile))
    const now = sqliteNow()
    for (let index = 0; index < total; index++) {
      const photo = photos[index % photos.length]
      const path = `${storage}/faces/${index}-${photo}`
      await copyFile(app.makePath('tests/fixtures/pairs', photo), app.makePath(path))
      const person = database
        .prepare(
          `insert into people (username, display_name, status, revision, created_at, updated_at)
           values (?, ?, 'active', 0, ?, ?)`
        )
        .run(`crash.${index}`, `Crash ${index}`, now, now)
      database
        .prepare(
          `insert into faces (person_id, embedding, engine, model_id, dimension, source, image_path, created_at)
           values (?, ?, 'engine', ?, 128, 'photo', ?, ?)`
        )
        .run(person.lastInsertRowid, embeddingBytes(unitVector(index + 1)), oldModel, path, now)
    }
    database.prepare('update face_model_state set model_in_force = ? where id = 1').run(oldModel)
    const count = (sql: string) => {
      const row = database.prepare(sql).get() as { total: number }
      return Number(row.total)
    }

    // The server starts with the default model configured and queues the job itself.
    const server = await startServer({ port, dbFile, env, engine: 'engine' })
    processes.push(server)
    const jobId = `reembed-0-${defaultEmbedder}`
    await until(async () => Boolean(await queue.getJob(jobId)), 60_000, 'the server queued the job')
    await stopServer(server)

    const worker = () => {
      const child = spawn(process.execPath, ['ace', 'queue:work'], {
        env: { ...process.env, ...env, QUEUE_WORKER: 'false' },
        stdio: ['ignore', 'inherit', 'inherit'],
      })
      processes.push(child)
      return child
    }
    const first = worker()
    await until(
      async () => count('select count(*) as total from face_features') >= 8,
      180_000,
      'the first worker staged features'
    )
    const killed = new Promise((resolve) => first.once('exit', resolve))
    first.kill('SIGKILL')
    await killed
    const stagedBeforeKill = count('select count(*) as total from face_features')
    assert.isBelow(stagedBeforeKill, total, 'the kill came before the end')
    const modelBeforeRestart = database
      .prepare('select model_in_force from face_model_state where id = 1')
      .get() as { model_in_force: string }
    assert.equal(modelBeforeRestart.model_in_force, oldModel)

    worker()
    await until(
      async () => {
        const row = database
          .prepare('select model_in_force from face_model_state where id = 1')
          .get() as { model_in_force: string }
        return row.model_in_force === defaultEmbedder
      },
      240_000,
      'the next worker finished the job'
    )

    assert.equal(count('select count(*) as total from faces'), total)
    assert.equal(
      count(
        `select count(*) as total from faces where model_id = '${defaultEmbedder}' and dimension = ${featureLength(defaultEmbedder)}`
      ),
      total
    )
    assert.equal(count('select count(*) as total from face_features'), 0)
    assert.equal(count(`select count(*) as total from audit_logs where action = 'face.reembed'`), 1)
    // The switch commits before the job records its result.
    await until(
      async () => (await queue.getJobState(jobId)) === 'completed',
      60_000,
      'the job was recorded as completed'
    )
    const job = await queue.getJob(jobId)
    assert.equal(
      job?.returnvalue?.staged,
      total - stagedBeforeKill,
      'no staged face was computed again'
    )
    assert.isTrue(job?.returnvalue?.modelSwitched)
    database.close()
  }).timeout(600_000)
})

/** Waits for `condition`, checking every 200 ms, and fails after `ms` saying what did not happen. */
async function until(condition: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
