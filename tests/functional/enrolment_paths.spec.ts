import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { FaceDbRevision } from '#faces/face_db_revision'
import { FacePhotoAnalyser } from '#faces/face_photo_analyser'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import { decodePhoto } from '#faces/photo_decoding'
import { RecognitionEngine } from '#faces/recognition_engine'
import { enrolPhotoOf, post, resetTerminalState } from '#tests/helpers/terminal'

const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

/** What every way in must leave: the person and the face it says it enrolled. */
type Enrolled = { personId: number; faceId: number; probe: string }

async function regFace(
  client: ApiClient,
  username: string,
  faceName: string,
  picture: string
): Promise<{ code: number; faceId?: number; message: string }> {
  const device = await DeviceFactory.apply('approved').apply('enrolling').create()
  const fields = {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    username,
    faceName,
    picBase64: await readFile(app.makePath('tests/fixtures/pairs', picture), 'base64'),
  }
  const response = await post(client, 'regFace', fields, 'form', device)
  return response.body()
}

/**
 * Every way a face enters: each must go through the one enrolment path,
 * so that devices are told (the revision) and faceIdentify finds the face
 * at once (the gallery), with the photo stored and the audit entry.
 */
const waysIn: { way: string; enrol: (client: ApiClient) => Promise<Enrolled> }[] = [
  {
    way: 'an upload on the person page',
    enrol: async (client) => {
      const operator = await UserFactory.create()
      const person = await PersonFactory.apply('consented').create()
      const response = await client
        .post(`/admin/people/${person.id}/faces`)
        .loginAs(operator)
        .withCsrfToken()
        .file('photo', await photo('jim_parsons_sheldon1.png'), { filename: 's.png' })
        .redirects(0)
      response.assertStatus(302)
      const face = await Face.findByOrFail('person_id', person.id)
      return { personId: person.id, faceId: face.id, probe: 'jim_parsons_sheldon2.png' }
    },
  },
  {
    way: 'regFace creating a person at a terminal that shows the consent text',
    enrol: async (client) => {
      const answer = await regFace(client, 'sheldon', 'Sheldon Cooper', 'jim_parsons_sheldon1.png')
      if (answer.code !== 0) throw new Error(JSON.stringify(answer))
      const person = await Person.findByOrFail('username', 'sheldon')
      return { personId: person.id, faceId: answer.faceId!, probe: 'jim_parsons_sheldon2.png' }
    },
  },
  {
    way: 'regFace adding a matching face to an enrolled person',
    enrol: async (client) => {
      const person = await PersonFactory.merge({ username: 'sheldon', displayName: 'Sheldon' })
        .apply('consented')
        .create()
      await enrolPhotoOf(person, await photo('jim_parsons_sheldon1.png'))
      const answer = await regFace(client, 'sheldon', 'Sheldon', 'jim_parsons_sheldon2.png')
      if (answer.code !== 0) throw new Error(JSON.stringify(answer))
      return { personId: person.id, faceId: answer.faceId!, probe: 'jim_parsons_sheldon3.png' }
    },
  },
  {
    way: "an operator approving a terminal's held face",
    enrol: async (client) => {
      const operator = await UserFactory.create()
      const person = await PersonFactory.merge({ username: 'sheldon', displayName: 'Sheldon' })
        .apply('consented')
        .create()
      await enrolPhotoOf(person, await photo('jim_parsons_sheldon1.png'))
      const held = await regFace(client, 'sheldon', 'Sheldon Cooper', 'jim_parsons_sheldon2.png')
      if (held.code !== 5) throw new Error(JSON.stringify(held))
      const review = await EnrolmentReview.findByOrFail('person_id', person.id)
      const response = await client
        .post(`/admin/reviews/${review.id}/approve`)
        .loginAs(operator)
        .withCsrfToken()
        .header('referer', '/admin/reviews')
        .redirects(0)
      response.assertStatus(302)
      const face = await Face.query()
        .where('person_id', person.id)
        .where('image_path', review.imagePath!)
        .firstOrFail()
      return { personId: person.id, faceId: face.id, probe: 'jim_parsons_sheldon3.png' }
    },
  },
]

test.group('Every way a face enters', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test(
    '{way}: the photo, the face, the revision, the audit entry and the gallery change land together'
  )
    .with(waysIn)
    .run(async ({ client, assert }, { enrol }) => {
      const revisionBefore = await new FaceDbRevision().current()
      const { personId, faceId, probe } = await enrol(client)

      const face = await Face.findOrFail(faceId)
      assert.equal(face.personId, personId)
      const media = await app.container.make(MediaStore)
      assert.isNotNull(await media.locate(face.imagePath), 'the photo is stored')

      const person = await Person.findOrFail(personId)
      const revision = await new FaceDbRevision().current()
      assert.isAbove(revision, revisionBefore)
      assert.equal(Number(person.revision), revision, 'devices are told about the person')

      const audited = await AuditLog.query()
        .where('action', 'face.create')
        .where('subject_id', String(personId))
      assert.includeMembers(
        audited.map((entry) => (entry.after as { faceId: number }).faceId),
        [faceId]
      )

      const decoded = await decodePhoto(await photo(probe), 'probe')
      if (!decoded.ok) throw new Error('probe does not decode')
      const analyser = await app.container.make(FacePhotoAnalyser)
      const analysed = await analyser.analyse(decoded.image)
      if (!analysed.ok) throw new Error('probe has no face')
      const engine = await app.container.make(RecognitionEngine)
      const compared = await engine.comparator()
      if (!compared.ok) throw new Error('no comparator')
      const gallery = await app.container.make(GalleryIndex)
      const found = await gallery.search(analysed.chosen.feature, compared.comparator, 5)
      if (!found.ok) throw new Error('uncalibrated')
      const match = found.matches.find((candidate) => candidate.faceId === faceId)
      assert.exists(match, 'the gallery holds the new face')
      assert.equal(match!.personId, personId)
      assert.isAtLeast(match!.score, 0.6)
    })
})
