import { test } from '@japa/runner'
import sharp from 'sharp'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import type Person from '#models/person'
import type User from '#models/user'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { FaceDbRevision } from '#faces/face_db_revision'
import { FeatureComparator } from '#faces/feature_blob'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import {
  addFace,
  grant,
  post,
  resetTerminalState,
  storedFileExists,
  tokenFor,
  unitVector,
} from '#tests/helpers/terminal'

const storedPhotos: string[] = []

/**
 * A photo in the media store that no other test stores: photos are kept
 * by content, so one of a fixture would be shared with other tests.
 */
async function storedPhoto() {
  const [r, g, b] = [0, 0, 0].map(() => Math.floor(Math.random() * 256))
  const bytes = await sharp({
    create: { width: 8, height: 8, channels: 3, background: { r, g, b } },
  })
    .png()
    .toBuffer()
  const path = await new MediaStore().saveFacePhoto(bytes, 'png')
  storedPhotos.push(path)
  return path
}

/** A person with consent recorded by `recorder`, a card, and one face with its photo. */
async function consentedPerson(recorder: User) {
  const person = await PersonFactory.apply('consented')
    .apply('withCard')
    .merge({ consentRecordedBy: recorder.id })
    .create()
  const face = await addFace(person, { imagePath: await storedPhoto() })
  return { person, face }
}

/**
 * The person form as the browser submits it: every field, the hidden
 * marker of the consent box, and `consentGiven` only when ticked.
 */
function submitForm(
  client: ApiClient,
  operator: User,
  person: Person,
  changes: { consentGiven?: boolean; consentTextVersion?: string; displayName?: string } = {}
) {
  const fields: Record<string, string> = {
    displayName: changes.displayName ?? person.displayName,
    cardNumber: person.cardNumber ?? '',
    department: person.department ?? '',
    status: person.status,
    validFrom: '',
    validUntil: '',
    notes: person.notes ?? '',
    consentShown: '1',
    consentTextVersion: changes.consentTextVersion ?? person.consentTextVersion ?? '',
  }
  if (changes.consentGiven) fields.consentGiven = '1'
  return client
    .post(`/admin/people/${person.id}?_method=PUT`)
    .loginAs(operator)
    .withCsrfToken()
    .header('referer', `/admin/people/${person.id}/edit`)
    .form(fields)
    .redirects(0)
}

function confirmWithdrawal(client: ApiClient, operator: User, person: Person) {
  return client
    .post(`/admin/people/${person.id}/consent/withdraw`)
    .loginAs(operator)
    .withCsrfToken()
    .redirects(0)
}

const usernamesOf = (names: { username: string }[]) => names.map((name) => name.username)

async function getDbs(client: ApiClient, device: Device, since?: number) {
  const token = await tokenFor(client, device)
  const response = await post(
    client,
    'getDbs',
    { deviceName: device.name, deviceSN: device.serialNumber, token, since },
    'json',
    device
  )
  return response.body() as {
    code: number
    full: boolean
    revision: number
    names: { username: string }[]
    removed: string[]
  }
}

/** The people the gallery finds for a probe of the 128-value model. */
async function galleryPeople(probeSeed: number) {
  const comparator = await FeatureComparator.fromManifest(app.makePath('models/manifest.json'))
  const gallery = await app.container.make(GalleryIndex)
  const probe = { model: 'faceapi-recognition', vector: unitVector(probeSeed) }
  const found = await gallery.search(probe, comparator)
  if (!found.ok) throw new Error('the test model is uncalibrated')
  return found.matches.map((match) => match.personId)
}

const withdrawals = () => AuditLog.query().where('action', 'person.consent_withdraw')

test.group('Biometric consent', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.teardown(async () => {
    const media = new MediaStore()
    for (const path of storedPhotos.splice(0)) await media.remove(path)
  })

  test('the person page shows the consent on record, and says when there is none', async ({
    client,
  }) => {
    const recorder = await UserFactory.merge({ fullName: 'Rita Recorder' }).create()
    const { person } = await consentedPerson(recorder)
    const without = await PersonFactory.create()

    const given = await client.get(`/admin/people/${person.id}/edit`).loginAs(recorder)
    given.assertTextIncludes(
      `Consent given on ${person.consentGivenAt!.toISODate()}, recorded by Rita Recorder; consent text version v1.`
    )
    const none = await client.get(`/admin/people/${without.id}/edit`).loginAs(recorder)
    none.assertTextIncludes('Not on record: faces cannot be enrolled until consent is recorded.')
  })

  test('unticking consent saves the other fields and asks for confirmation; nothing is withdrawn yet', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { person, face } = await consentedPerson(operator)
    const givenAt = person.consentGivenAt!.toMillis()

    const response = await submitForm(client, operator, person, { displayName: 'Renamed Person' })

    response.assertStatus(302)
    response.assertHeader('location', `/admin/people/${person.id}/consent/withdraw`)
    await person.refresh()
    assert.equal(person.displayName, 'Renamed Person')
    assert.equal(person.consentGivenAt?.toMillis(), givenAt)
    assert.equal(person.consentTextVersion, 'v1')
    assert.isNotNull(await Face.find(face.id))
    assert.isTrue(await storedFileExists(face.imagePath!))
    assert.isNull(await withdrawals().first())

    const page = await client.get(`/admin/people/${person.id}/consent/withdraw`).loginAs(operator)
    page.assertStatus(200)
    page.assertTextIncludes('Withdraw the biometric consent of Renamed Person?')
    page.assertTextIncludes('deletes their face template and its photo')
    page.assertTextIncludes('devices drop them at their next sync')
    page.assertTextIncludes('their card still opens the doors it opened')
    page.assertTextIncludes('records in the audit log')
    page.assertTextIncludes(`action="/admin/people/${person.id}/consent/withdraw"`)
  })

  test('confirming deletes faces, held faces and photos, clears consent, and devices and the gallery drop the person', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const { person, face } = await consentedPerson(operator)
    await addFace(person, { seed: person.id + 1000 })
    const other = await PersonFactory.create()
    const sharedPhoto = await storedPhoto()
    await addFace(person, { seed: person.id + 2000, imagePath: sharedPhoto })
    const othersFace = await addFace(other, { seed: other.id + 3000, imagePath: sharedPhoto })
    const held = await EnrolmentReview.create({
      kind: 'face_change',
      deviceLabel: 'Gate (SN-1)',
      personId: person.id,
      username: person.username,
      requestedName: person.displayName,
      reasons: ['no_match'],
      imagePath: await storedPhoto(),
    })
    await grant([person, other], [device])
    const card = person.cardNumber

    const first = await getDbs(client, device)
    assert.include(usernamesOf(first.names), person.username)
    assert.include(await galleryPeople(person.id), person.id)
    const revisionBefore = await new FaceDbRevision().current()

    const response = await confirmWithdrawal(client, operator, person)

    response.assertStatus(302)
    response.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.equal(await Face.query().where('person_id', person.id).first(), null)
    assert.isFalse(await storedFileExists(face.imagePath!))
    assert.isTrue(await storedFileExists(sharedPhoto), "the other person's face still uses it")
    assert.isNotNull(await Face.find(othersFace.id))
    assert.isNull(await EnrolmentReview.find(held.id))
    assert.isFalse(await storedFileExists(held.imagePath!))

    await person.refresh()
    assert.isNull(person.consentGivenAt)
    assert.isNull(person.consentRecordedBy)
    assert.isNull(person.consentTextVersion)
    assert.equal(person.cardNumber, card)
    assert.equal(person.status, 'active')
    assert.isAbove(Number(person.revision), revisionBefore)
    assert.equal(Number(person.revision), await new FaceDbRevision().current())

    const entry = await withdrawals().firstOrFail()
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectId, String(person.id))
    assert.equal(entry.subjectLabel, person.username)
    assert.deepInclude(entry.before, { faces: 3, heldFaces: 1, consentTextVersion: 'v1' })
    assert.isString((entry.before as Record<string, unknown>).consentGivenAt)

    assert.notInclude(await galleryPeople(person.id), person.id)
    assert.notInclude(await galleryPeople(person.id + 1000), person.id)

    const next = await getDbs(client, device, first.revision)
    assert.include(next, { code: 0, full: false })
    assert.include(next.removed, person.username)
    assert.notInclude(usernamesOf(next.names), person.username)

    const again = await confirmWithdrawal(client, operator, person)
    again.assertStatus(302)
    again.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.lengthOf(await withdrawals(), 1, 'a second confirmation withdraws nothing more')
  })

  test('withdrawing is confirmed even for a person with no face', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').create()

    const unticked = await submitForm(client, operator, person)
    unticked.assertHeader('location', `/admin/people/${person.id}/consent/withdraw`)
    const page = await client.get(`/admin/people/${person.id}/consent/withdraw`).loginAs(operator)
    page.assertTextIncludes('deletes no face template: none is enrolled')

    const response = await confirmWithdrawal(client, operator, person)
    response.assertStatus(302)
    await person.refresh()
    assert.isNull(person.consentGivenAt)
    const entry = await withdrawals().firstOrFail()
    assert.deepInclude(entry.before, { faces: 0, heldFaces: 0 })
  })

  test('ticking consent again records a new consent, and needs the text version', async ({
    client,
    assert,
  }) => {
    const first = await UserFactory.create()
    const second = await UserFactory.create()
    const { person } = await consentedPerson(first)
    await confirmWithdrawal(client, first, person)
    await person.refresh()

    const withoutVersion = await submitForm(client, second, person, {
      consentGiven: true,
      consentTextVersion: '',
    })
    withoutVersion.assertStatus(302)
    withoutVersion.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.property(withoutVersion.flashMessages().inputErrorsBag, 'consentTextVersion')
    await person.refresh()
    assert.isNull(person.consentGivenAt)

    const response = await submitForm(client, second, person, {
      consentGiven: true,
      consentTextVersion: 'v2',
    })
    response.assertStatus(302)
    response.assertHeader('location', '/admin/people')
    await person.refresh()
    assert.isNotNull(person.consentGivenAt)
    assert.equal(person.consentRecordedBy, second.id)
    assert.equal(person.consentTextVersion, 'v2')
    const entry = await AuditLog.query()
      .where('action', 'person.update')
      .where('subject_id', String(person.id))
      .firstOrFail()
    assert.deepInclude(entry.after, { consentTextVersion: 'v2', consentRecordedBy: second.id })
  })

  test('a save with consent still ticked changes nothing about consent', async ({
    client,
    assert,
  }) => {
    const recorder = await UserFactory.create()
    const operator = await UserFactory.create()
    const { person, face } = await consentedPerson(recorder)
    const givenAt = person.consentGivenAt!.toMillis()

    const response = await submitForm(client, operator, person, {
      consentGiven: true,
      displayName: 'Still Consenting',
    })

    response.assertStatus(302)
    response.assertHeader('location', '/admin/people')
    await person.refresh()
    assert.equal(person.displayName, 'Still Consenting')
    assert.equal(person.consentGivenAt?.toMillis(), givenAt)
    assert.equal(person.consentRecordedBy, recorder.id)
    assert.equal(person.consentTextVersion, 'v1')
    assert.isNotNull(await Face.find(face.id))
    assert.isNull(await withdrawals().first())
  })

  test('a person without consent is saved as usual with the box unticked', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()

    const response = await submitForm(client, operator, person, { displayName: 'No Consent' })

    response.assertStatus(302)
    response.assertHeader('location', '/admin/people')
    await person.refresh()
    assert.equal(person.displayName, 'No Consent')
    assert.isNull(person.consentGivenAt)

    const page = await client
      .get(`/admin/people/${person.id}/consent/withdraw`)
      .loginAs(operator)
      .redirects(0)
    page.assertStatus(302)
    page.assertHeader('location', `/admin/people/${person.id}/edit`)
    const confirmed = await confirmWithdrawal(client, operator, person)
    confirmed.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.isNull(await withdrawals().first())
  })

  test('an auditor can neither open the confirmation nor withdraw', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const { person, face } = await consentedPerson(auditor)

    const page = await client.get(`/admin/people/${person.id}/consent/withdraw`).loginAs(auditor)
    page.assertStatus(403)
    const response = await confirmWithdrawal(client, auditor, person)
    assert.equal(response.status(), 403)
    await person.refresh()
    assert.isNotNull(person.consentGivenAt)
    assert.isNotNull(await Face.find(face.id))
  })
})
