import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import terminalConfig from '#config/terminal'
import AccessGroup from '#models/access_group'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import type User from '#models/user'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { EnrolmentReviewService } from '#services/enrolment_review_service'
import { FaceDbRevision } from '#faces/face_db_revision'
import {
  countRows,
  grant,
  post,
  resetTerminalState,
  storedFileExists,
  enrolPhotoOf,
  useThumbnailAnalyser,
  tokenFor,
} from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures/faces', name))

/** regFace from the device, as a terminal sends it. */
async function regFace(
  client: ApiClient,
  device: Device,
  username: string,
  faceName: string,
  photo: string
) {
  const fields = {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    username,
    faceName,
    picBase64: await readFile(app.makePath('tests/fixtures/faces', photo), 'base64'),
  }
  const response = await post(client, 'regFace', fields, 'form', device)
  return response.body()
}

/**
 * Penny with a face from penny.png, and a terminal that sends a photo of
 * someone else for her: held for review.
 */
async function heldFaceForPenny(client: ApiClient, photo = 'rose_leslie.jpg', name = 'Penny') {
  const device = await DeviceFactory.apply('approved').apply('enrolling').create()
  const person = await PersonFactory.merge({ username: 'penny', displayName: 'Penny' })
    .apply('consented')
    .create()
  const enrolled = await enrolPhotoOf(person, await fixture('penny.png'))
  const answer = await regFace(client, device, 'penny', name, photo)
  if (answer.code !== 5) throw new Error(`not held: ${JSON.stringify(answer)}`)
  const review = await EnrolmentReview.findByOrFail('person_id', person.id)
  return { device, person, enrolled, review }
}

/** A person a terminal created, waiting to be approved into a group. */
async function newPersonFromTerminal(client: ApiClient) {
  const device = await DeviceFactory.apply('approved').apply('enrolling').create()
  const answer = await regFace(client, device, 'sheldon', 'Sheldon Cooper', 'sheldon.png')
  if (answer.code !== 0) throw new Error(`not enrolled: ${JSON.stringify(answer)}`)
  const review = await EnrolmentReview.findByOrFail('username', 'sheldon')
  const person = await Person.findOrFail(review.personId)
  return { device, person, review }
}

function decide(
  client: ApiClient,
  user: User,
  review: { id: number },
  decision: 'approve' | 'reject',
  form: Record<string, string> = {}
) {
  return client
    .post(`/admin/reviews/${review.id}/${decision}`)
    .loginAs(user)
    .withCsrfToken()
    .header('referer', '/admin/reviews')
    .form(form)
    .redirects(0)
}

async function auditActions(prefix: string) {
  const entries = await AuditLog.query().where('action', 'like', `${prefix}%`).orderBy('id')
  return entries.map((entry) => entry.action)
}

test.group('Enrolment reviews', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    const { restore } = await useThumbnailAnalyser()
    return restore
  })

  test('a held face is listed with the reason, the held photo and the enrolled ones', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { device, person, enrolled, review } = await heldFaceForPenny(client)

    const page = await client.get('/admin/reviews').loginAs(operator)
    page.assertStatus(200)
    page.assertTextIncludes('Face for an existing person')
    page.assertTextIncludes(device.serialNumber)
    page.assertTextIncludes('127.0.0.1')
    const score = (Math.floor(review.score! * 100) / 100).toFixed(2)
    assert.match(page.text(), /The face does not match Penny&#x27;s enrolled faces/)
    page.assertTextIncludes(`enrolled faces (best score ${score}).`)
    page.assertTextIncludes(`/admin/reviews/${review.id}/photo`)
    page.assertTextIncludes(`/admin/people/${person.id}/faces/${enrolled.id}/photo`)
    page.assertTextIncludes(`action="/admin/reviews/${review.id}/approve"`)
    page.assertTextIncludes(`action="/admin/reviews/${review.id}/reject"`)
    assert.notInclude(page.text(), 'name="groupId"', 'a held face joins no group')
    assert.match(page.text(), /data-test="nav-count-enrolment_reviews">1</)

    const photo = await client.get(`/admin/reviews/${review.id}/photo`).loginAs(operator)
    photo.assertStatus(200)
    photo.assertHeader('content-type', 'image/jpeg')
    photo.assertHeader('cache-control', 'private, no-store')
    assert.isTrue(Buffer.from(photo.body()).equals(await fixture('rose_leslie.jpg')))
  })

  test('a rename is shown as the current name and the requested one', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await heldFaceForPenny(client, 'penny.png', 'Penny Hofstadter')
    const page = await client.get('/admin/reviews').loginAs(operator)
    assert.include(page.text(), 'Rename: Penny → Penny Hofstadter.')
  })

  test('approving a held face adds it, sends the person to devices, audits it and clears the review', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { device, person, review } = await heldFaceForPenny(client)
    await grant([person], [device])
    const synced = await getDbs(client, device)
    const revision = await new FaceDbRevision().current()

    const response = await decide(client, operator, review, 'approve')
    response.assertStatus(302)
    response.assertHeader('location', '/admin/reviews')
    assert.equal(
      response.flashMessages().success,
      'The face was added to Penny; devices pick it up at their next sync.'
    )

    const faces = await Face.query().where('person_id', person.id).orderBy('id')
    assert.lengthOf(faces, 2)
    assert.include(faces[1].$attributes, { source: 'terminal', imagePath: review.imagePath })
    assert.isAbove(await new FaceDbRevision().current(), revision)
    await person.refresh()
    assert.isAbove(Number(person.revision), revision)
    assert.isNull(await EnrolmentReview.find(review.id))
    const entry = await AuditLog.findByOrFail('action', 'enrolment.approve')
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectId, String(person.id))
    assert.include(entry.after as Record<string, unknown>, { faceId: faces[1].id })
    assert.isTrue(await storedFileExists(review.imagePath!))

    const next = await getDbs(client, device, { since: synced.revision })
    assert.deepEqual(
      next.names.map((name: { username: string }) => name.username),
      ['penny', 'penny']
    )

    const page = await client.get('/admin/reviews').loginAs(operator)
    page.assertTextIncludes('No enrolment is waiting for a review.')
    assert.notInclude(page.text(), 'nav-count-enrolment_reviews')
  })

  test('approving a rename renames the person', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const { person, review } = await heldFaceForPenny(client, 'penny.png', 'Penny Hofstadter')
    const response = await decide(client, operator, review, 'approve')
    response.assertStatus(302)
    await person.refresh()
    assert.equal(person.displayName, 'Penny Hofstadter')
  })

  test('rejecting a held face leaves no face, no review and no photo', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { person, enrolled, review } = await heldFaceForPenny(client)
    await person.refresh()
    const revision = Number(person.revision)
    assert.isTrue(await storedFileExists(review.imagePath!))

    const response = await decide(client, operator, review, 'reject')
    response.assertStatus(302)
    response.assertHeader('location', '/admin/reviews')
    assert.equal(response.flashMessages().success, 'The face sent for penny was discarded.')

    const faces = await Face.query().where('person_id', person.id)
    assert.deepEqual(
      faces.map((face) => face.id),
      [enrolled.id]
    )
    assert.equal(await countRows('enrolment_reviews'), 0)
    assert.isFalse(await storedFileExists(review.imagePath!))
    assert.isTrue(await storedFileExists(enrolled.imagePath!))
    await person.refresh()
    assert.equal(Number(person.revision), revision)
    assert.deepEqual(await auditActions('enrolment.'), ['enrolment.hold', 'enrolment.reject'])
  })

  test('a new person is offered the REGFACE_ACCESS_GROUP group first and approved into the chosen one', async ({
    client,
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    const configured = await AccessGroup.create({ name: 'Enrolled at terminals' })
    const chosen = await AccessGroup.create({ name: 'Lab staff' })
    const before = terminalConfig.regFaceAccessGroup
    terminalConfig.regFaceAccessGroup = 'Enrolled at terminals'
    cleanup(() => {
      terminalConfig.regFaceAccessGroup = before
    })
    const { person, review } = await newPersonFromTerminal(client)

    const page = await client.get('/admin/reviews').loginAs(operator)
    page.assertTextIncludes('New person: Sheldon Cooper was created at the terminal')
    page.assertTextIncludes(`/admin/reviews/${review.id}/photo`)
    assert.match(page.text(), /<option value="">No group<\/option>/)
    assert.match(page.text(), new RegExp(`<option value="${configured.id}" selected>`))
    assert.match(page.text(), new RegExp(`<option value="${chosen.id}" >Lab staff`))

    const response = await decide(client, operator, review, 'approve', {
      groupId: String(chosen.id),
    })
    response.assertStatus(302)
    assert.equal(
      response.flashMessages().success,
      'Sheldon Cooper was approved and added to Lab staff.'
    )
    await person.load('accessGroups')
    assert.deepEqual(
      person.accessGroups.map((joined) => joined.id),
      [chosen.id]
    )
    assert.isNull(await EnrolmentReview.find(review.id))
    const entry = await AuditLog.findByOrFail('action', 'enrolment.approve')
    assert.deepEqual(entry.after, { group: 'Lab staff' })
  })

  test('a new person approved with no group stays in none', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    await AccessGroup.create({ name: 'Lab staff' })
    const { person, review } = await newPersonFromTerminal(client)

    const response = await decide(client, operator, review, 'approve', { groupId: '' })
    assert.equal(
      response.flashMessages().success,
      'Sheldon Cooper was approved; they are in no access group yet.'
    )
    await person.load('accessGroups')
    assert.lengthOf(person.accessGroups, 0)
    assert.equal(await countRows('enrolment_reviews'), 0)
  })

  test('an access group that is gone is a flash error; the review stays', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { review } = await newPersonFromTerminal(client)

    const response = await decide(client, operator, review, 'approve', { groupId: '999999' })
    response.assertStatus(302)
    response.assertHeader('location', '/admin/reviews')
    assert.equal(
      response.flashMessages().error,
      'That access group no longer exists; choose another.'
    )
    assert.exists(await EnrolmentReview.find(review.id))
  })

  test('rejecting a new person deletes them with their face and photo', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { person, review } = await newPersonFromTerminal(client)
    assert.isTrue(await storedFileExists(review.imagePath!))

    const response = await decide(client, operator, review, 'reject')
    response.assertStatus(302)
    assert.equal(
      response.flashMessages().success,
      'Sheldon Cooper (sheldon) was deleted with their face.'
    )
    assert.isNull(await Person.find(person.id))
    assert.equal(await countRows('faces'), 0)
    assert.equal(await countRows('enrolment_reviews'), 0)
    assert.isFalse(await storedFileExists(review.imagePath!))
    assert.includeMembers(await auditActions('enrolment.'), ['enrolment.reject'])
  })

  test('an auditor sees the queue and the photo but may not decide', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const { review } = await heldFaceForPenny(client)

    const page = await client.get('/admin/reviews').loginAs(auditor)
    page.assertStatus(200)
    page.assertTextIncludes(`/admin/reviews/${review.id}/photo`)
    assert.notInclude(page.text(), `/admin/reviews/${review.id}/approve`)
    const photo = await client.get(`/admin/reviews/${review.id}/photo`).loginAs(auditor)
    photo.assertStatus(200)

    for (const decision of ['approve', 'reject'] as const) {
      const response = await decide(client, auditor, review, decision)
      response.assertStatus(403)
    }
    assert.exists(await EnrolmentReview.find(review.id))
    assert.equal(await countRows('faces'), 1)
    assert.isTrue(await storedFileExists(review.imagePath!))
    assert.deepEqual(await auditActions('enrolment.'), ['enrolment.hold'])
  })

  test('the page and the photo need a session', async ({ client }) => {
    const { review } = await heldFaceForPenny(client)
    for (const path of ['/admin/reviews', `/admin/reviews/${review.id}/photo`]) {
      const response = await client.get(path).redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/login')
    }
  })

  test('a review that does not exist is a 404 page', async ({ client }) => {
    const operator = await UserFactory.create()
    const photo = await client.get('/admin/reviews/424242/photo').loginAs(operator)
    photo.assertStatus(404)
    for (const decision of ['approve', 'reject'] as const) {
      const response = await decide(client, operator, { id: 424242 }, decision)
      response.assertStatus(404)
      response.assertTextIncludes('</html>')
    }
  })

  test('a rename sent with a photo the person has is approved without a second face', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const { person, review } = await heldFaceForPenny(client, 'penny.png', 'Penny Hofstadter')
    assert.deepEqual(review.reasons, ['rename'])

    const response = await decide(client, operator, review, 'approve')
    response.assertStatus(302)
    await person.refresh()
    assert.equal(person.displayName, 'Penny Hofstadter')
    assert.equal(await countRows('faces'), 1)
  })

  test('a review decided already is not decided twice', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const { review } = await heldFaceForPenny(client)
    const stale = await EnrolmentReview.findOrFail(review.id)

    await decide(client, operator, review, 'approve')
    const service = await app.container.make(EnrolmentReviewService)
    const again = await service.approve({ userId: operator.id, label: 'x', ip: null }, stale)
    assert.deepEqual(again, { ok: false, error: { type: 'already_decided' } })
    assert.equal(await countRows('faces'), 2)
  })

  test('an empty queue says so, in English and in Chinese', async ({ client }) => {
    const english = await client.get('/admin/reviews').loginAs(await UserFactory.create())
    english.assertTextIncludes('No enrolment is waiting for a review.')
    const chinese = await client
      .get('/admin/reviews')
      .loginAs(await UserFactory.merge({ locale: 'zh' }).create())
    chinese.assertTextIncludes('注册审核')
    chinese.assertTextIncludes('没有等待审核的注册。')
  })
})

async function getDbs(client: ApiClient, device: Device, extra: Record<string, number> = {}) {
  const fields = {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    token: await tokenFor(client, device),
    ...extra,
  }
  const response = await post(client, 'getDbs', fields, 'json', device)
  if (response.body().code !== 0) throw new Error(`getDbs: ${response.text()}`)
  return response.body()
}
