import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import videoConfig from '#config/video'
import Face from '#models/face'
import Person from '#models/person'
import VideoEnrolment from '#models/video_enrolment'
import AuditLog from '#models/audit_log'
import type User from '#models/user'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { commandLineActor } from '#services/audit_trail'
import { toSqlDateTime } from '#services/sql_time'
import { QueueFake } from '#services/queue_fake'
import { QueueService } from '#services/queue_service'
import { storedFeature } from '#faces/face_data'
import { RecognitionEngine, matchThreshold } from '#faces/recognition_engine'
import { VideoEnrolmentService } from '#faces/video_enrolment'
import { resetTerminalState } from '#tests/helpers/terminal'
import EnrolFromVideoJob from '#jobs/enrol_from_video_job'
import { loopedClip, patternClip, zoomClip } from '#tests/helpers/video_clips'

const clips = app.makePath('tmp', `video_spec_${process.pid}`)
const fixture = (name: string) => app.makePath('tests/fixtures', name)
const facesDevClip = fixture('video/Lin-Manuel_Miranda_single_face.mp4')

/** A copy of a clip to upload: accepting a video moves the file it is given. */
async function upload(clip: string) {
  const copy = join(clips, `upload-${Date.now()}-${Math.random().toString(16).slice(2)}`)
  await copyFile(clip, copy)
  const { size } = await stat(copy)
  return { tmpPath: copy, clientName: 'clip.mp4', size }
}

async function filesIn(folder: string) {
  return readdir(folder).catch(() => [] as string[])
}

/**
 * Accepts a clip for the person as the page does and runs its job here,
 * as the worker would.
 */
async function enrolFrom(person: Person, clip: string) {
  const videos = await app.container.make(VideoEnrolmentService)
  const queue = new QueueFake()
  const accepted = await videos.accept(commandLineActor(), person, await upload(clip), queue)
  if (!accepted.ok) return { accepted, enrolment: null, result: null }
  const [payload] = queue.findAll(EnrolFromVideoJob)
  const result = await videos.run(payload, { last: true })
  const enrolment = await VideoEnrolment.findOrFail(accepted.enrolment.id)
  return { accepted, enrolment, result }
}

/** Waits, polling, for a condition that holds in the end; generous for a busy machine. */
async function eventually<T>(check: () => Promise<T | null | undefined | false>, ms = 120_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('the condition did not hold in time')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Until the in-process worker has no job running: a job a test left
 * finishing (a cancelled video cleaning up) runs on beside the next
 * requests otherwise, and on PostgreSQL those requests then lost the
 * session the test had just written.
 */
async function queueIdle() {
  const queue = await app.container.make(QueueService)
  await eventually(async () => (await queue.queue.getActiveCount()) === 0, 60_000)
}

/** The upload form on the person page, as the browser sends it. */
async function uploadOnPage(client: ApiClient, operator: User, person: Person, clip: string) {
  return client
    .post(`/admin/people/${person.id}/videos`)
    .loginAs(operator)
    .withCsrfToken()
    .file('video', await readFile(clip), { filename: 'clip.mp4' })
    .redirects(0)
}

/**
 * The enrolment the page queued for the person, once its job has reached
 * one of `statuses` and ended (the upload is deleted after the status is
 * written, and the path forgotten last).
 */
function reached(person: Person, statuses: string[], ms?: number) {
  return eventually(async () => {
    const enrolment = await VideoEnrolment.query().where('person_id', person.id).first()
    const ended = enrolment && statuses.includes(enrolment.status) && !enrolment.videoPath
    return ended ? enrolment : null
  }, ms)
}

/** Processes whose command line names the file (an ffmpeg still reading it). */
async function processesReading(path: string) {
  const found: number[] = []
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (command.includes(path)) found.push(Number(pid))
  }
  return found
}

/** `node ace queue:work` on the test database and Redis, as a site's worker process. */
function queueWorker() {
  return spawn(process.execPath, ['ace', 'queue:work', '--concurrency=1'], {
    env: { ...process.env, QUEUE_WORKER: 'false', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
}

test.group('Video registration', (group) => {
  group.setup(async () => {
    // Uploads a run killed before their jobs ended could have left.
    await rm(VideoEnrolmentService.videosDir(), { recursive: true, force: true })
    await mkdir(clips, { recursive: true })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'kit.mp4'))
    zoomClip(fixture('groups/kit_with_rose.jpg'), join(clips, 'two.mp4'), { seconds: 3 })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'dark.mp4'), {
      seconds: 3,
      brightness: -0.75,
    })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'short.mp4'), { seconds: 0.5 })
    patternClip(join(clips, 'pattern.mp4'))
    patternClip(join(clips, 'prores.mov'), 2, ['-c:v', 'prores_ks'])
    loopedClip(facesDevClip, join(clips, 'long.mp4'), { seconds: 12 })
    return () => rm(clips, { recursive: true, force: true })
  })
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => queueIdle())
  group.each.teardown(async () => {
    await Person.query().where('username', 'like', 'video.%').delete()
    await resetTerminalState()
  })

  test('the faces-dev clip enrols three frames of the one person, at different poses', async ({
    assert,
  }) => {
    const person = await PersonFactory.apply('consented').merge({ username: 'video.lin' }).create()
    const { enrolment, result } = await enrolFrom(person, facesDevClip)

    assert.equal(enrolment!.status, 'done', enrolment!.reason ?? '')
    assert.equal(result!.enrolled, 3)
    const faces = await Face.query().where('person_id', person.id)
    assert.lengthOf(faces, 3)
    assert.deepEqual(
      faces.map((face) => face.source),
      ['video', 'video', 'video']
    )
    assert.sameMembers(
      enrolment!.frames!.filter((frame) => frame.faceId).map((frame) => frame.faceId),
      faces.map((face) => face.id)
    )
    assert.equal(enrolment!.framesRead, 13)
    assert.isAtLeast(enrolment!.framesWithFace, 10)
    assert.isNull(enrolment!.videoPath, 'the upload is forgotten')
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [], 'and deleted')
    assert.deepEqual(await VideoEnrolmentService.thumbnailsOf(enrolment!.id), [])

    // A worker killed after the frames were enrolled but before the end was written: run again, it adds nothing.
    const again = await upload(facesDevClip)
    const videoPath = join('tmp', `video_spec_${process.pid}`, again.tmpPath.split('/').pop()!)
    await enrolment!.merge({ status: 'running', stage: 'enrolling', videoPath }).save()
    const videos = await app.container.make(VideoEnrolmentService)
    const rerun = await videos.run(
      { videoEnrolmentId: enrolment!.id, actor: commandLineActor() },
      { last: true }
    )
    assert.deepEqual(rerun, { status: 'done', enrolled: 3, timings: rerun.timings })
    assert.lengthOf(await Face.query().where('person_id', person.id), 3)
    await enrolment!.refresh()
    assert.equal(enrolment!.status, 'done')
    assert.isNull(enrolment!.videoPath)
    assert.isFalse(
      await stat(again.tmpPath).then(
        () => true,
        () => false
      ),
      'the upload is deleted'
    )
  }).timeout(120_000)

  test('a clip of a fixture photo enrols faces that match another photo of the same person', async ({
    assert,
  }) => {
    const person = await PersonFactory.apply('consented').merge({ username: 'video.kit' }).create()
    const { enrolment } = await enrolFrom(person, join(clips, 'kit.mp4'))
    assert.equal(enrolment!.status, 'done', enrolment!.reason ?? '')

    const faces = await Face.query().where('person_id', person.id)
    assert.lengthOf(faces, 3)
    const engine = await app.container.make(RecognitionEngine)
    const photo = await engine.withPicture(
      await readFile(fixture('pairs/kit_harington_02.jpg')),
      'photo',
      ({ picture }) => picture.embed()
    )
    const compared = await engine.comparator()
    if (!photo.ok || !compared.ok) return assert.fail('the engine reads the photo')
    for (const face of faces) {
      const score = compared.comparator.compare(storedFeature(face), photo.feature)
      assert.isTrue(score.ok, 'same model')
      assert.isAtLeast(
        score.ok ? score.score : 0,
        matchThreshold,
        `face ${face.id} matches the photo`
      )
    }
    const stranger = await engine.withPicture(
      await readFile(fixture('pairs/joe_biden_01.jpg')),
      'photo',
      ({ picture }) => picture.embed()
    )
    if (!stranger.ok) return assert.fail('the engine reads the photo')
    const strangerScore = compared.comparator.compare(storedFeature(faces[0]), stranger.feature)
    assert.isBelow(strangerScore.ok ? strangerScore.score : 1, matchThreshold, 'and not a stranger')
  }).timeout(120_000)

  test('{name} is refused as {reason}, enrolling nothing and deleting the upload')
    .with([
      { name: 'a video of two people', clip: 'two.mp4', reason: 'several_people' },
      { name: 'a video with no face', clip: 'pattern.mp4', reason: 'no_face' },
      { name: 'a dark video', clip: 'dark.mp4', reason: 'too_dark' },
    ])
    .run(async ({ assert }, row) => {
      const person = await PersonFactory.apply('consented')
        .merge({ username: 'video.refused' })
        .create()
      const { enrolment } = await enrolFrom(person, join(clips, row.clip))
      assert.equal(enrolment!.status, 'failed')
      assert.equal(enrolment!.reasonCode, row.reason, enrolment!.reason ?? '')
      assert.isNotEmpty(enrolment!.reason)
      assert.lengthOf(await Face.query().where('person_id', person.id), 0)
      assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
    })
    .timeout(120_000)

  test('{name} is refused at upload as {reason}')
    .with([
      { name: 'a ProRes video', file: 'prores', reason: 'unsupported_codec' },
      { name: 'a video longer than VIDEO_MAX_SECONDS', file: 'long', reason: 'too_long' },
      { name: 'a photo', file: 'pairs/kit_harington_01.jpg', reason: 'not_video' },
      { name: 'a text file', file: null, reason: 'not_video' },
      { name: 'a half-second video', file: 'short', reason: 'too_short' },
    ])
    .run(async ({ assert, cleanup }, row) => {
      if (row.reason === 'too_long') {
        const limit = videoConfig.maxSeconds
        videoConfig.maxSeconds = 10
        cleanup(() => {
          videoConfig.maxSeconds = limit
        })
      }
      const person = await PersonFactory.apply('consented')
        .merge({ username: 'video.upload' })
        .create()
      let source: string
      if (row.file === null) {
        source = join(clips, 'notes.txt')
        await writeFile(source, 'not a video at all\n'.repeat(100))
      } else if (row.file === 'short') {
        source = join(clips, 'short.mp4')
      } else if (row.file === 'long' || row.file === 'prores') {
        source = join(clips, `${row.file}.${row.file === 'prores' ? 'mov' : 'mp4'}`)
      } else {
        source = fixture(row.file)
      }
      const { accepted } = await enrolFrom(person, source)
      assert.isFalse(accepted.ok)
      assert.equal(!accepted.ok && accepted.error.type, row.reason)
      assert.lengthOf(await VideoEnrolment.query().where('person_id', person.id), 0)
    })

  test('the person page uploads a video, the in-process worker enrols it and the page shows it', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').merge({ username: 'video.page' }).create()
    const answer = await uploadOnPage(client, operator, person, facesDevClip)
    answer.assertStatus(302)
    assert.equal(answer.header('location'), `/admin/people/${person.id}/edit#person-video`)

    const enrolment = await reached(person, ['done', 'failed', 'cancelled'])
    assert.equal(enrolment.status, 'done', enrolment.reason ?? '')
    assert.equal(enrolment.operatorId, operator.id)
    assert.lengthOf(await Face.query().where('person_id', person.id).where('source', 'video'), 3)
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
    assert.deepEqual(await filesIn(join(terminalConfig.storageDir, 'uploads')), [])

    const list = await client
      .get(`/admin/people/${person.id}/videos`)
      .loginAs(operator)
      .accept('json')
    list.assertStatus(200)
    const [progress] = list.body().videos
    assert.include(progress, { id: enrolment.id, status: 'done', finished: true, framesRead: 13 })
    assert.lengthOf(
      progress.frames.filter((frame: { thumbnail: string | null }) => frame.thumbnail),
      3
    )
    const browser = await client
      .get(`/admin/people/${person.id}/videos`)
      .loginAs(operator)
      .redirects(0)
    assert.equal(browser.header('location'), `/admin/people/${person.id}/edit#person-video`)
    const audit = await AuditLog.query()
      .where('action', 'face.create')
      .where('subject_id', String(person.id))
    assert.lengthOf(audit, 3)
    assert.isTrue(audit.every((entry) => entry.userId === operator.id))

    const page = await client.get(`/admin/people/${person.id}/edit`).loginAs(operator)
    page.assertStatus(200)
    assert.include(page.text(), 'data-test="video-enrolled-frame"')
    assert.include(page.text(), `/admin/people/${person.id}/faces/`)

    // The same job again (a duplicate, a retry after it ended) changes nothing.
    const videos = await app.container.make(VideoEnrolmentService)
    await videos.run({ videoEnrolmentId: enrolment.id, actor: commandLineActor() }, { last: true })
    assert.lengthOf(await Face.query().where('person_id', person.id), 3)
  }).timeout(120_000)

  test('an upload no enrolment waits for is deleted a day later, when another arrives', async ({
    assert,
  }) => {
    const folder = VideoEnrolmentService.videosDir()
    await mkdir(folder, { recursive: true })
    const lost = join(folder, 'lost.mp4')
    const recent = join(folder, 'recent.mp4')
    await writeFile(lost, 'a video whose job was lost')
    await writeFile(recent, 'a video arriving now')
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60_000)
    await utimes(lost, twoDaysAgo, twoDaysAgo)

    const person = await PersonFactory.apply('consented')
      .merge({ username: 'video.sweep' })
      .create()
    const videos = await app.container.make(VideoEnrolmentService)
    const accepted = await videos.accept(
      commandLineActor(),
      person,
      await upload(facesDevClip),
      new QueueFake()
    )
    assert.isTrue(accepted.ok)
    const left = await filesIn(folder)
    assert.notInclude(left, 'lost.mp4')
    assert.include(left, 'recent.mp4')
    assert.lengthOf(left, 2)
    await rm(recent)
    await videos.cancel(await VideoEnrolment.findOrFail(accepted.ok && accepted.enrolment.id))
    assert.deepEqual(await filesIn(folder), [])
  })

  test('a queued video cancelled before a worker takes it is never read', async ({ assert }) => {
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'video.queued' })
      .create()
    const videos = await app.container.make(VideoEnrolmentService)
    const queue = new QueueFake()
    const accepted = await videos.accept(
      commandLineActor(),
      person,
      await upload(facesDevClip),
      queue
    )
    if (!accepted.ok) return assert.fail(accepted.error.message)
    const { videoPath } = accepted.enrolment
    assert.isTrue(await videos.cancel(accepted.enrolment))
    assert.equal(accepted.enrolment.status, 'cancelled')
    assert.isFalse(
      await stat(app.makePath(videoPath!)).then(
        () => true,
        () => false
      )
    )

    const [payload] = queue.findAll(EnrolFromVideoJob)
    assert.deepEqual(await videos.run(payload, { last: true }), {
      status: 'cancelled',
      enrolled: 0,
    })
    const row = await VideoEnrolment.findOrFail(accepted.enrolment.id)
    assert.equal(row.status, 'cancelled')
    assert.equal(row.framesRead, 0)
    assert.lengthOf(await Face.query().where('person_id', person.id), 0)
  })

  test('a running video whose job was lost is shown failed, its upload deleted', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').merge({ username: 'video.lost' }).create()
    const videos = await app.container.make(VideoEnrolmentService)
    const accepted = await videos.accept(
      commandLineActor(),
      person,
      await upload(facesDevClip),
      new QueueFake()
    )
    if (!accepted.ok) return assert.fail(accepted.error.message)
    const { id, videoPath } = accepted.enrolment
    const quiet = DateTime.now().minus({ minutes: VideoEnrolmentService.lostAfterMinutes + 1 })
    await db
      .from('video_enrolments')
      .where('id', id)
      .update({ status: 'running', updated_at: toSqlDateTime(quiet) })

    const list = await client
      .get(`/admin/people/${person.id}/videos`)
      .loginAs(operator)
      .accept('json')
    assert.include(list.body().videos[0], { id, status: 'failed', reasonCode: 'job_lost' })
    assert.isFalse(
      await stat(app.makePath(videoPath!)).then(
        () => true,
        () => false
      )
    )
  })

  test('a video larger than VIDEO_MAX_MB is refused on the page and kept nowhere', async ({
    client,
    assert,
    cleanup,
  }) => {
    const limit = videoConfig.maxBytes
    videoConfig.maxBytes = 100_000
    cleanup(() => {
      videoConfig.maxBytes = limit
    })
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').merge({ username: 'video.big' }).create()
    const answer = await uploadOnPage(client, operator, person, facesDevClip)
    answer.assertStatus(302)
    answer.assertFlashMessage(
      'videoError',
      'The video is larger than 0.1 MB. Record a shorter one.'
    )
    assert.lengthOf(await VideoEnrolment.query().where('person_id', person.id), 0)
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
  })

  test('a file that is no video sends the page back with the reason and keeps nothing', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').merge({ username: 'video.text' }).create()
    const answer = await uploadOnPage(
      client,
      operator,
      person,
      fixture('pairs/kit_harington_01.jpg')
    )
    answer.assertStatus(302)
    answer.assertFlashMessage(
      'videoError',
      'This file is not a video the server can read. Upload an MP4, WebM or MOV recording.'
    )
    const json = await client
      .post(`/admin/people/${person.id}/videos`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .file('video', Buffer.from('not a video'), { filename: 'notes.mp4' })
    json.assertStatus(422)
    assert.equal(json.body().error.type, 'not_video')
    assert.lengthOf(await VideoEnrolment.query().where('person_id', person.id), 0)
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
    assert.isTrue(
      await eventually(async () => {
        const left = await filesIn(join(terminalConfig.storageDir, 'uploads'))
        return left.length === 0
      }, 5000)
    )
  })

  test('cancel stops the job at its next frame: ffmpeg killed, nothing enrolled, the upload gone', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'video.cancel' })
      .create()
    const uploaded = await uploadOnPage(client, operator, person, join(clips, 'long.mp4'))
    uploaded.assertStatus(302)
    const running = await eventually(async () => {
      const enrolment = await VideoEnrolment.query().where('person_id', person.id).first()
      return enrolment?.status === 'running' && enrolment.framesRead >= 2 ? enrolment : null
    })
    const videoPath = app.makePath(running.videoPath!)
    assert.isNotEmpty(await processesReading(videoPath), 'ffmpeg reads the upload')

    const cancel = await client
      .post(`/admin/people/${person.id}/videos/${running.id}/cancel`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    cancel.assertStatus(302)

    const cancelled = await reached(person, ['done', 'failed', 'cancelled'])
    assert.equal(cancelled.status, 'cancelled')
    assert.isBelow(cancelled.framesRead, 48, 'it stopped before the end of the video')
    assert.lengthOf(await Face.query().where('person_id', person.id), 0)
    assert.deepEqual(await processesReading(videoPath), [], 'ffmpeg was stopped')
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
    assert.deepEqual(await VideoEnrolmentService.thumbnailsOf(cancelled.id), [])

    await queueIdle()
    const again = await client
      .post(`/admin/people/${person.id}/videos/${running.id}/cancel`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
    again.assertStatus(409)
  }).timeout(120_000)

  test('a worker process killed mid-video is replaced and the job completes once, with no duplicate faces', async ({
    client,
    assert,
    cleanup,
  }) => {
    // Only the worker processes started here take the job.
    const queue = await app.container.make(QueueService)
    const inProcess = queue.startWorker()
    await inProcess.pause(true)
    cleanup(() => inProcess.resume())
    const workers: ChildProcess[] = []
    cleanup(() => {
      for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL')
    })

    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'video.crash' })
      .create()
    const uploaded = await uploadOnPage(client, operator, person, join(clips, 'long.mp4'))
    uploaded.assertStatus(302)

    workers.push(queueWorker())
    const midway = await eventually(async () => {
      const enrolment = await VideoEnrolment.query().where('person_id', person.id).first()
      return enrolment?.status === 'running' && enrolment.framesRead >= 4 ? enrolment : null
    }, 180_000)
    workers[0].kill('SIGKILL')
    await new Promise((resolve) => workers[0].once('exit', resolve))
    assert.isBelow(midway.framesRead, 48)
    const killed = await VideoEnrolment.findOrFail(midway.id)
    assert.isNotNull(killed.videoPath, 'the upload waits for the job')

    // BullMQ gives the job to the new worker once the killed one's lock has expired (30 s) and a
    // stalled-job check has seen it twice (30 s apart): a minute or two on a busy machine.
    workers.push(queueWorker())
    const job = await queue.queue.getJob(midway.jobId!)
    const done = await eventually(async () => {
      if ((await job?.getState()) === 'failed') {
        const failed = await queue.queue.getJob(midway.jobId!)
        throw new Error(`BullMQ failed the job: ${failed?.failedReason}`)
      }
      const enrolment = await VideoEnrolment.findOrFail(midway.id)
      return enrolment.finished && !enrolment.videoPath ? enrolment : null
    }, 400_000)
    assert.equal(done.status, 'done', done.reason ?? '')
    const faces = await Face.query().where('person_id', person.id)
    assert.lengthOf(faces, 3)
    assert.lengthOf(new Set(faces.map((face) => face.imagePath)), 3)
    assert.lengthOf(
      done.frames!.filter((frame) => frame.faceId),
      3
    )
    assert.lengthOf(
      await AuditLog.query().where('action', 'face.create').where('subject_id', String(person.id)),
      3
    )
    assert.deepEqual(await filesIn(VideoEnrolmentService.videosDir()), [])
    assert.deepEqual(await VideoEnrolmentService.thumbnailsOf(done.id), [])
    assert.equal(await job?.getState(), 'completed')
  }).timeout(480_000)
})
