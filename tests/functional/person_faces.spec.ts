import { readFile, stat } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import type Person from '#models/person'
import type User from '#models/user'
import { UserFactory } from '#database/factories/user_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { RecognitionEngine } from '#faces/recognition_engine'
import { FaceEnroller } from '#services/terminal/face_enroller'
import { countRows, resetTerminalState, withoutEngine } from '#tests/helpers/terminal'
import { defaultEmbedder } from '#plugins/face_engine/embedder'
import type { ApiClient } from '@japa/api-client'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures', name))

function upload(client: ApiClient, user: User, person: Person, bytes: Buffer, filename: string) {
  return client
    .post(`/admin/people/${person.id}/faces`)
    .loginAs(user)
    .withCsrfToken()
    .header('referer', `/admin/people/${person.id}/edit`)
    .file('photo', bytes, { filename })
    .redirects(0)
}

function photoError(response: { flashMessages(): Record<string, unknown> }) {
  const errors = response.flashMessages().inputErrorsBag as Record<string, string[]>
  return errors.photo[0]
}

/** The gallery's best matches for another photo of the same person, computed by the real engine. */
async function galleryMatches(photo: string) {
  const enroller = await app.container.make(FaceEnroller)
  const probe = await enroller.enrollPhoto(await fixture(photo), 'probe')
  if (!probe.ok) throw new Error(`${photo} has no face`)
  const engine = await app.container.make(RecognitionEngine)
  const compared = await engine.comparator()
  if (!compared.ok) throw new Error('no comparator')
  const gallery = await app.container.make(GalleryIndex)
  const found = await gallery.search(probe.feature, compared.comparator)
  if (!found.ok) throw new Error('gallery is uncalibrated')
  return found.matches
}

async function assertNothingWritten(
  assert: { equal(a: unknown, b: unknown): void },
  revision: number
) {
  assert.equal(await countRows('faces'), 0)
  assert.equal(await AuditLog.query().where('action', 'like', 'face.%').first(), null)
  assert.equal(await new FaceDbRevision().current(), revision)
}

test.group('People pages: faces', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('an uploaded photo is enrolled by the engine, audited, synced and found by the gallery', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.merge({ username: 'sheldon' }).create()
    const revisionBefore = await new FaceDbRevision().current()

    const response = await upload(
      client,
      operator,
      person,
      await fixture('pairs/jim_parsons_sheldon1.png'),
      'sheldon.png'
    )
    response.assertStatus(302)
    response.assertHeader('location', `/admin/people/${person.id}/edit`)

    const face = await Face.findByOrFail('person_id', person.id)
    assert.include(face.$attributes, {
      source: 'photo',
      modelId: defaultEmbedder,
      dimension: 512,
    })
    assert.isAbove(face.quality!, 0)
    const stored = await stat(app.makePath(face.imagePath!))
    assert.isTrue(stored.isFile())
    await person.refresh()
    assert.isAbove(Number(person.revision), revisionBefore)
    const entry = await AuditLog.findByOrFail('action', 'face.create')
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectId, String(person.id))

    const [best] = await galleryMatches('pairs/jim_parsons_sheldon2.png')
    assert.include(best, { faceId: face.id, personId: person.id })
    assert.isAtLeast(best.score, 0.6)

    const page = await client.get(`/admin/people/${person.id}/edit`).loginAs(operator)
    page.assertTextIncludes(`/admin/people/${person.id}/faces/${face.id}/photo`)
    page.assertTextIncludes(defaultEmbedder)
    const photo = await client
      .get(`/admin/people/${person.id}/faces/${face.id}/photo`)
      .loginAs(operator)
    photo.assertStatus(200)
    photo.assertHeader('content-type', 'image/png')
  })

  test('a photo without a face and a file that is no image are field errors; nothing is written', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    const revision = await new FaceDbRevision().current()

    const noFace = await upload(
      client,
      operator,
      person,
      await fixture('pairs/scenes/rocket.jpg'),
      'rocket.jpg'
    )
    noFace.assertStatus(302)
    assert.match(photoError(noFace), /No face was found/)

    const notImage = await upload(
      client,
      operator,
      person,
      Buffer.from('just some text\n'),
      'notes.jpg'
    )
    notImage.assertStatus(302)
    assert.match(photoError(notImage), /not a photo the server can read/)

    await assertNothingWritten(assert, revision)
  })

  test('without a recognition engine the upload is a field error; nothing is written', async ({
    client,
    assert,
    cleanup,
  }) => {
    withoutEngine(cleanup)
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    const revision = await new FaceDbRevision().current()

    const response = await upload(
      client,
      operator,
      person,
      await fixture('faces/penny.png'),
      'penny.png'
    )
    assert.match(photoError(response), /No recognition engine is running/)
    await assertNothingWritten(assert, revision)
  })

  test('removing a face deletes the row and its photo, and the gallery forgets it', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    await upload(client, operator, person, await fixture('pairs/kit_harington_01.jpg'), 'kit.jpg')
    const face = await Face.findByOrFail('person_id', person.id)
    const [before] = await galleryMatches('pairs/kit_harington_02.jpg')
    assert.include(before, { faceId: face.id })
    await person.refresh()
    const revisionBefore = Number(person.revision)

    const response = await client
      .delete(`/admin/people/${person.id}/faces/${face.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)

    assert.isNull(await Face.find(face.id))
    await assert.rejects(() => stat(app.makePath(face.imagePath!)))
    await person.refresh()
    assert.isAbove(Number(person.revision), revisionBefore)
    const entry = await AuditLog.findByOrFail('action', 'face.delete')
    assert.equal((entry.before as Record<string, unknown>).faceId, face.id)
    const matches = await galleryMatches('pairs/kit_harington_02.jpg')
    assert.notInclude(
      matches.map((match) => match.faceId),
      face.id
    )
  })

  test('an auditor may see the photo but neither upload nor remove a face', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const auditor = await UserFactory.apply('auditor').create()
    const person = await PersonFactory.create()
    await upload(client, operator, person, await fixture('faces/penny.png'), 'penny.png')
    const face = await Face.findByOrFail('person_id', person.id)
    await person.refresh()
    const revision = Number(person.revision)

    const uploaded = await upload(
      client,
      auditor,
      person,
      await fixture('faces/sheldon.png'),
      'sheldon.png'
    )
    uploaded.assertStatus(403)
    const removed = await client
      .delete(`/admin/people/${person.id}/faces/${face.id}`)
      .loginAs(auditor)
      .withCsrfToken()
      .redirects(0)
    removed.assertStatus(403)

    assert.equal(await countRows('faces'), 1)
    assert.equal(
      await AuditLog.query()
        .where('action', 'like', 'face.%')
        .count('* as n')
        .then((r) => Number(r[0].$extras.n)),
      1
    )
    assert.equal(await new FaceDbRevision().current(), revision)
    const photo = await client
      .get(`/admin/people/${person.id}/faces/${face.id}/photo`)
      .loginAs(auditor)
    photo.assertStatus(200)
  })
})
