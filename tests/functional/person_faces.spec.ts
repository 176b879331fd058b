import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import type Person from '#models/person'
import type User from '#models/user'
import { UserFactory } from '#database/factories/user_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { RecognitionEngine } from '#faces/recognition_engine'
import { FacePhotoAnalyser } from '#faces/face_photo_analyser'
import { decodePhoto } from '#faces/photo_decoding'
import { MediaStore } from '#faces/media_store'
import { countRows, freshCopy, resetTerminalState, withoutEngine } from '#tests/helpers/terminal'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
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

/** The upload's error as the re-rendered person page shows it. */
function photoError(response: { text(): string }) {
  const found = /data-test="error-photo"[^>]*>([^<]*)</.exec(response.text())
  if (!found) throw new Error('the page shows no upload error')
  return found[1].replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&')
}

/** The photo token a refused upload's page carries for the operator's decision. */
function stagedToken(response: { text(): string }) {
  const found = /name="staged" value="([0-9a-f]{32})"/.exec(response.text())
  if (!found) throw new Error('the page keeps no photo for a decision')
  return found[1]
}

/** A decision on a kept photo, posted as the pick or confirmation form does. */
function decide(client: ApiClient, user: User, person: Person, fields: Record<string, string>) {
  return client
    .post(`/admin/people/${person.id}/faces`)
    .loginAs(user)
    .withCsrfToken()
    .form(fields)
    .redirects(0)
}

async function stagedFiles() {
  const names = await readdir(join(terminalConfig.storageDir, 'staging')).catch(() => [])
  return names.length
}

/** The gallery's best matches for another photo of the same person, computed by the real engine. */
async function galleryMatches(photo: string) {
  const decoded = await decodePhoto(await fixture(photo), 'probe')
  if (!decoded.ok) throw new Error(`${photo} does not decode`)
  const analyser = await app.container.make(FacePhotoAnalyser)
  const probe = await analyser.analyse(decoded.image)
  if (!probe.ok) throw new Error(`${photo} has no face`)
  const engine = await app.container.make(RecognitionEngine)
  const compared = await engine.comparator()
  if (!compared.ok) throw new Error('no comparator')
  const gallery = await app.container.make(GalleryIndex)
  const found = await gallery.search(probe.chosen.feature, compared.comparator)
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
    const person = await PersonFactory.merge({ username: 'sheldon' }).apply('consented').create()
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
      dimension: featureLength(defaultEmbedder),
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
    const person = await PersonFactory.apply('consented').create()
    const revision = await new FaceDbRevision().current()

    const noFace = await upload(
      client,
      operator,
      person,
      await fixture('pairs/scenes/rocket.jpg'),
      'rocket.jpg'
    )
    noFace.assertStatus(422)
    assert.match(photoError(noFace), /No face was found/)

    const notImage = await upload(
      client,
      operator,
      person,
      Buffer.from('just some text\n'),
      'notes.jpg'
    )
    notImage.assertStatus(422)
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
    const person = await PersonFactory.apply('consented').create()
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
    const person = await PersonFactory.apply('consented').create()
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
    const person = await PersonFactory.apply('consented').create()
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

  test('a group photo is refused with its faces to pick from; the picked face is enrolled', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.merge({ cardNumber: '10002', department: 'Security' })
      .apply('consented')
      .create()
    const revision = await new FaceDbRevision().current()

    const refused = await upload(
      client,
      operator,
      person,
      await fixture('groups/kit_with_rose.jpg'),
      'group.jpg'
    )
    refused.assertStatus(422)
    assert.match(photoError(refused), /This photo shows 2 faces/)
    assert.lengthOf(refused.text().match(/data-test="face-choice"/g) ?? [], 2)
    assert.include(refused.text(), 'value="10002"', 'the person form shows what is stored')
    assert.include(refused.text(), 'value="Security"')
    await assertNothingWritten(assert, revision)
    assert.equal(await stagedFiles(), 2, 'the photo and its owner wait for the pick')

    const picked = await decide(client, operator, person, {
      staged: stagedToken(refused),
      face: '1',
    })
    picked.assertStatus(302)
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(await countRows('faces'), 1)
    const [best] = await galleryMatches('faces/rose_leslie.jpg')
    const [kit] = await galleryMatches('faces/kit_harington.jpg')
    assert.isTrue(
      (best.faceId === face.id && best.score >= 0.6) !==
        (kit.faceId === face.id && kit.score >= 0.6),
      'the enrolled face is one of the two people, not a blend'
    )
    assert.equal(await stagedFiles(), 0, 'the kept photo goes once enrolled')
    await person.refresh()
    assert.equal(person.cardNumber, '10002')
  })

  test("another person's face is refused naming them; enrolling it anyway needs a reason, which is audited", async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const sheldon = await PersonFactory.merge({ displayName: 'Sheldon Cooper' })
      .apply('consented')
      .create()
    const other = await PersonFactory.apply('consented').create()
    await upload(
      client,
      operator,
      sheldon,
      await fixture('pairs/jim_parsons_sheldon1.png'),
      's.png'
    )
    const revision = await new FaceDbRevision().current()

    const refused = await upload(
      client,
      operator,
      other,
      await fixture('pairs/jim_parsons_sheldon2.png'),
      'sheldon2.png'
    )
    refused.assertStatus(422)
    assert.match(
      photoError(refused),
      new RegExp(`matches Sheldon Cooper \\(${sheldon.username}\\)`)
    )
    assert.equal(await countRows('faces'), 1)
    assert.equal(await new FaceDbRevision().current(), revision)
    const token = stagedToken(refused)

    const withoutReason = await decide(client, operator, other, {
      staged: token,
      confirming: 'different_people',
      other: 'Sheldon Cooper',
      reason_different_people: '   ',
    })
    withoutReason.assertStatus(422)
    assert.match(photoError(withoutReason), /Give a reason/)
    assert.equal(await countRows('faces'), 1)

    const confirmed = await decide(client, operator, other, {
      staged: token,
      confirming: 'different_people',
      reason_different_people: 'Identical twin, checked against his ID card',
    })
    confirmed.assertStatus(302)
    const face = await Face.findByOrFail('person_id', other.id)
    const entry = await AuditLog.query()
      .where('action', 'face.create')
      .where('subject_id', String(other.id))
      .firstOrFail()
    assert.include(entry.after as Record<string, unknown>, {
      faceId: face.id,
      confirmedDifferentPeople: 'Identical twin, checked against his ID card',
    })
    assert.equal(entry.userId, operator.id)
  })

  test("a face that does not match the person's own faces waits for a reason", async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').create()
    await upload(client, operator, person, await fixture('pairs/kit_harington_01.jpg'), 'kit.jpg')
    const revision = await new FaceDbRevision().current()

    const refused = await upload(
      client,
      operator,
      person,
      await fixture('faces/penny.png'),
      'penny.png'
    )
    refused.assertStatus(422)
    assert.match(photoError(refused), /does not match the faces already enrolled/)
    assert.include(refused.text(), 'name="reason_same_person"')
    assert.equal(await countRows('faces'), 1)
    assert.equal(await new FaceDbRevision().current(), revision)

    const confirmed = await decide(client, operator, person, {
      staged: stagedToken(refused),
      confirming: 'same_person',
      reason_same_person: 'New photo after surgery',
    })
    confirmed.assertStatus(302)
    assert.equal(await countRows('faces'), 2)
    const entry = await AuditLog.query()
      .where('action', 'face.create')
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.include(entry.after as Record<string, unknown>, {
      confirmedSamePerson: 'New photo after surgery',
    })
  })

  test('without consent on record no face is enrolled and no photo is kept', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    const revision = await new FaceDbRevision().current()

    const { bytes: photo, format } = await freshCopy(await fixture('faces/penny.png'))
    const refused = await upload(client, operator, person, photo, 'p.png')
    refused.assertStatus(422)
    assert.match(photoError(refused), /No biometric consent is on record/)
    await assertNothingWritten(assert, revision)
    assert.equal(await stagedFiles(), 0)
    const media = await app.container.make(MediaStore)
    const path = media.facePhotoPath(photo, format)
    assert.isNull(await media.locate(path))
  })

  test('a kept photo is only for the operator and person it was kept for; discarding removes it', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const colleague = await UserFactory.create()
    const person = await PersonFactory.apply('consented').create()
    const refused = await upload(
      client,
      operator,
      person,
      await fixture('groups/kit_with_rose.jpg'),
      'group.jpg'
    )
    const token = stagedToken(refused)

    const stranger = await decide(client, colleague, person, { staged: token, face: '0' })
    stranger.assertStatus(422)
    assert.match(photoError(stranger), /waited too long/)
    const forged = await decide(client, operator, person, { staged: '../../.env', face: '0' })
    forged.assertStatus(422)
    assert.equal(await countRows('faces'), 0)
    assert.equal(await stagedFiles(), 2)

    const discarded = await client
      .post(`/admin/people/${person.id}/faces/discard`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ staged: token })
      .redirects(0)
    discarded.assertStatus(302)
    assert.equal(await stagedFiles(), 0)
    assert.isNull(
      await app.container
        .make(MediaStore)
        .then((media) => media.stagedPhoto(token, `person:${person.id}:user:${operator.id}`))
    )
  })
})
