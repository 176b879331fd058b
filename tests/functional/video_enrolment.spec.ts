import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import Face from '#models/face'
import Person from '#models/person'
import VideoEnrolment from '#models/video_enrolment'
import { PersonFactory } from '#database/factories/person_factory'
import { commandLineActor } from '#services/audit_trail'
import { QueueFake } from '#services/queue_fake'
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

test.group('Video registration', (group) => {
  group.setup(async () => {
    await mkdir(clips, { recursive: true })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'kit.mp4'))
    zoomClip(fixture('groups/kit_with_rose.jpg'), join(clips, 'two.mp4'), { seconds: 3 })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'dark.mp4'), {
      seconds: 3,
      brightness: -0.75,
    })
    zoomClip(fixture('pairs/kit_harington_01.jpg'), join(clips, 'short.mp4'), { seconds: 0.5 })
    patternClip(join(clips, 'pattern.mp4'))
    loopedClip(facesDevClip, join(clips, 'long.mp4'), { seconds: 12 })
    return () => rm(clips, { recursive: true, force: true })
  })
  group.each.setup(() => resetTerminalState())
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
    assert.deepEqual(await filesIn(VideoEnrolmentService.thumbnailsDir(enrolment!.id)), [])
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
      { name: 'a photo', file: 'pairs/kit_harington_01.jpg', reason: 'not_video' },
      { name: 'a text file', file: null, reason: 'not_video' },
      { name: 'a half-second video', file: 'short', reason: 'too_short' },
    ])
    .run(async ({ assert }, row) => {
      const person = await PersonFactory.apply('consented')
        .merge({ username: 'video.upload' })
        .create()
      let source: string
      if (row.file === null) {
        source = join(clips, 'notes.txt')
        await writeFile(source, 'not a video at all\n'.repeat(100))
      } else if (row.file === 'short') {
        source = join(clips, 'short.mp4')
      } else {
        source = fixture(row.file)
      }
      const { accepted } = await enrolFrom(person, source)
      assert.isFalse(accepted.ok)
      assert.equal(!accepted.ok && accepted.error.type, row.reason)
      assert.lengthOf(await VideoEnrolment.query().where('person_id', person.id), 0)
    })
})
