import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import sharp from 'sharp'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import AccessEvent from '#models/access_event'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import Person from '#models/person'
import type User from '#models/user'
import { AccessGroupFactory } from '#database/factories/access_group_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { MediaStore } from '#faces/media_store'
import { StorageSweep } from '#faces/storage_sweep'
import { countRows, resetTerminalState } from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures', name))

const newPerson = {
  username: 'penny',
  displayName: 'Penny',
  cardNumber: '04A1B2C3',
  department: 'Reception',
  status: 'active',
  consentShown: '1',
  consentGiven: '1',
  consentTextVersion: 'v3',
}

/** The new-person form as the browser sends it: multipart, ticked groups, a photo. */
function submit(
  client: ApiClient,
  operator: User,
  fields: Record<string, string>,
  options: { groups?: number[]; photo?: Buffer; source?: 'photo' | 'webcam' } = {}
) {
  let request = client
    .post('/admin/people')
    .loginAs(operator)
    .withCsrfToken()
    .header('referer', '/admin/people/new')
    .redirects(0)
  for (const [name, value] of Object.entries(fields)) request = request.field(name, value)
  for (const id of options.groups ?? []) request = request.field('accessGroupIds[]', String(id))
  if (options.source) request = request.field('photoSource', options.source)
  if (options.photo) request = request.file('photo', options.photo, { filename: 'face.jpg' })
  return request
}

/** The thumbnails kept of one stored photo; none once the photo is gone. */
async function thumbnailsOf(storedPath: string) {
  const folder = new MediaStore().thumbnailFolder(storedPath)!
  return readdir(folder).catch(() => [] as string[])
}

test.group('People pages: enrolment on one page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('one submit creates the person with consent and card, puts them in the groups ticked and enrols the face', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await AccessGroupFactory.merge({ name: 'Lobby' }).create()
    const lab = await AccessGroupFactory.merge({ name: 'Lab' }).create()
    await AccessGroupFactory.merge({ name: 'Roof' }).create()

    const response = await submit(client, operator, newPerson, {
      groups: [lobby.id, lab.id],
      photo: await fixture('faces/penny.png'),
    })

    const person = await Person.findByOrFail('username', 'penny')
    response.assertStatus(302)
    response.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.equal(person.cardNumber, '04A1B2C3')
    assert.equal(person.consentTextVersion, 'v3')
    assert.equal(person.consentRecordedBy, operator.id)
    await person.load('accessGroups')
    assert.sameMembers(
      person.accessGroups.map((joined) => joined.name),
      ['Lobby', 'Lab']
    )
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(face.source, 'photo')
    const actions = await AuditLog.query().orderBy('id', 'asc').select('action')
    assert.deepEqual(
      actions.map((entry) => entry.action),
      ['person.create', 'access_group.add_person', 'access_group.add_person', 'face.create']
    )

    assert.equal(response.flashMessages().success, 'Penny was added and their face enrolled.')
    const page = await client.get(`/admin/people/${person.id}/edit`).loginAs(operator)
    page.assertTextIncludes(`/admin/people/${person.id}/faces/${face.id}/thumbnail/96`)
    assert.notInclude(page.text(), 'style="')
  })

  test('a camera picture is enrolled as a webcam face', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    await submit(client, operator, newPerson, {
      photo: await fixture('faces/penny.png'),
      source: 'webcam',
    })
    const person = await Person.findByOrFail('username', 'penny')
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(face.source, 'webcam')
  })

  test('a photo without consent sends the form back with what was typed, and creates no one', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await AccessGroupFactory.create()
    const withoutConsent: Record<string, string> = { ...newPerson }
    delete withoutConsent.consentGiven
    const response = await submit(client, operator, withoutConsent, {
      groups: [lobby.id],
      photo: await fixture('faces/penny.png'),
    })

    response.assertStatus(302)
    response.assertHeader('location', '/admin/people/new')
    assert.property(response.flashMessages().inputErrorsBag, 'consentGiven')
    assert.equal(response.flashMessages().cardNumber, '04A1B2C3')
    assert.deepEqual(response.flashMessages().accessGroupIds, [String(lobby.id)])
    assert.equal(await countRows('people'), 0)
  })

  test('a refused face keeps the person created: their page shows the pick, which then enrols the face', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const response = await submit(client, operator, newPerson, {
      photo: await fixture('groups/kit_with_rose.jpg'),
      source: 'webcam',
    })

    response.assertStatus(422)
    const person = await Person.findByOrFail('username', 'penny')
    assert.isNotNull(person.consentGivenAt)
    response.assertTextIncludes('Penny was added. Their face is not enrolled yet')
    response.assertTextIncludes('This photo shows 2 faces')
    response.assertTextIncludes('data-test="face-choice"')
    response.assertTextIncludes('name="photoSource" value="webcam"')
    assert.equal(await countRows('faces'), 0)

    const staged = /name="staged" value="([0-9a-f]{32})"/.exec(response.text())![1]
    const picked = await client
      .post(`/admin/people/${person.id}/faces`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ staged, face: '0', photoSource: 'webcam' })
      .redirects(0)
    picked.assertStatus(302)
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(face.source, 'webcam')
  })

  test('a duplicate username refuses the whole form: no person, no face', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await PersonFactory.merge({ username: 'penny' }).create()
    const response = await submit(client, operator, newPerson, {
      photo: await fixture('faces/penny.png'),
    })
    response.assertStatus(302)
    assert.property(response.flashMessages().inputErrorsBag, 'username')
    assert.equal(await countRows('faces'), 0)
  })
})

test.group('Access groups: adding several people at once', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('people ticked in a search join together, members already in are passed over', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await AccessGroupFactory.create()
    const [ada, bob, cy] = await PersonFactory.createMany(3)
    await lobby.related('people').attach([cy.id])

    const response = await client
      .post(`/admin/access-groups/${lobby.id}/people`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `/admin/access-groups/${lobby.id}?q=a`)
      .form({ 'personIds[]': [ada.id, bob.id, cy.id].map(String) })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', `/admin/access-groups/${lobby.id}?q=a`)
    assert.equal(response.flashMessages().success, '2 people were added.')
    await lobby.load('people')
    assert.sameMembers(
      lobby.people.map((person) => person.id),
      [ada.id, bob.id, cy.id]
    )
    const entries = await AuditLog.query().where('action', 'access_group.add_person')
    assert.lengthOf(entries, 2)
  })

  test('a department joins whole, whatever the case it was typed in', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lab = await AccessGroupFactory.create()
    const chemists = [
      await PersonFactory.merge({ department: 'Chemistry' }).create(),
      await PersonFactory.merge({ department: 'chemistry' }).create(),
    ]
    const other = await PersonFactory.merge({ department: 'Physics' }).create()

    const page = await client.get(`/admin/access-groups/${lab.id}`).loginAs(operator)
    page.assertTextIncludes('Chemistry (1 person not in this group)')

    await client
      .post(`/admin/access-groups/${lab.id}/people`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ department: 'Chemistry' })
      .redirects(0)

    await lab.load('people')
    const members = lab.people.map((person) => person.id)
    assert.sameMembers(
      members,
      chemists.map((person) => person.id)
    )
    assert.notInclude(members, other.id)
  })

  test('an auditor cannot add people', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const lab = await AccessGroupFactory.create()
    const person = await PersonFactory.create()
    const response = await client
      .post(`/admin/access-groups/${lab.id}/people`)
      .loginAs(auditor)
      .withCsrfToken()
      .form({ 'personIds[]': [String(person.id)] })
    response.assertStatus(403)
    assert.equal(await countRows('access_group_people'), 0)
  })
})

test.group('Thumbnails', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a face thumbnail is a square JPEG of the size asked, kept privately, and goes with its photo', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await submit(client, operator, newPerson, { photo: await fixture('faces/penny.png') })
    const person = await Person.findByOrFail('username', 'penny')
    const face = await Face.findByOrFail('person_id', person.id)
    // Photos are stored by content: an earlier run may have left this one's thumbnails.
    await rm(new MediaStore().thumbnailFolder(face.imagePath!)!, { recursive: true, force: true })

    for (const size of [96, 192]) {
      const response = await client
        .get(`/admin/people/${person.id}/faces/${face.id}/thumbnail/${size}`)
        .loginAs(operator)
      response.assertStatus(200)
      response.assertHeader('content-type', 'image/jpeg')
      assert.match(response.header('cache-control') ?? '', /^private, max-age=\d+$/)
      const image = await sharp(Buffer.from(response.body())).metadata()
      assert.include(image, { width: size, height: size, format: 'jpeg' })
    }
    assert.lengthOf(await thumbnailsOf(face.imagePath!), 2)
    const folder = new MediaStore().thumbnailFolder(face.imagePath!)!
    assert.isTrue(folder.startsWith(join(terminalConfig.storageDir, 'thumbnails')))
    for (const name of ['', ...(await readdir(folder))]) {
      const info = await stat(join(folder, name))
      assert.equal(info.mode & 0o077, 0, `${name || 'the folder'} is the server's alone`)
    }

    const other = await client
      .get(`/admin/people/${person.id}/faces/${face.id}/thumbnail/100`)
      .loginAs(operator)
    other.assertStatus(404)

    await client
      .delete(`/admin/people/${person.id}/faces/${face.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    assert.lengthOf(await thumbnailsOf(face.imagePath!), 0)
  })

  test('an event snapshot is scaled into the square; nobody signed out sees it', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.create()
    const snapshotPath = await new MediaStore().saveSnapshot(
      await fixture('groups/kit_with_rose.jpg'),
      'jpeg'
    )
    const event = await AccessEvent.create({
      deviceId: device.id,
      decision: 'denied',
      reason: 'unknown_face',
      method: 'face',
      occurredAt: DateTime.now(),
      receivedAt: DateTime.now(),
      snapshotPath,
    })

    const response = await client
      .get(`/admin/events/${event.id}/snapshot/thumbnail/192`)
      .loginAs(operator)
    response.assertStatus(200)
    const image = await sharp(Buffer.from(response.body())).metadata()
    assert.include(image, { width: 192, height: 192 })

    const anonymous = await client
      .get(`/admin/events/${event.id}/snapshot/thumbnail/192`)
      .redirects(0)
    anonymous.assertStatus(302)

    assert.lengthOf(await thumbnailsOf(snapshotPath), 1)
    await new MediaStore().remove(snapshotPath)
    assert.lengthOf(await thumbnailsOf(snapshotPath), 0)
  })

  test('the storage sweep removes thumbnails whose photo is gone', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    await submit(client, operator, newPerson, { photo: await fixture('faces/penny.png') })
    const person = await Person.findByOrFail('username', 'penny')
    const face = await Face.findByOrFail('person_id', person.id)
    await client.get(`/admin/people/${person.id}/faces/${face.id}/thumbnail/96`).loginAs(operator)
    await rm(app.makePath(face.imagePath!))

    const sweep = await app.container.make(StorageSweep)
    const report = await sweep.run()
    assert.isAtLeast(report.thumbnails, 1)
    assert.lengthOf(await thumbnailsOf(face.imagePath!), 0)
  })
})

test.group('Webcam preview', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  const frameOf = async (name: string) =>
    sharp(await fixture(name))
      .resize({ width: 480 })
      .jpeg()
      .toBuffer()

  const post = (client: ApiClient, user: User, frame: Buffer) =>
    client
      .post('/admin/faces/preview')
      .loginAs(user)
      .withCsrfToken()
      .accept('json')
      .file('frame', frame, { filename: 'frame.jpg' })

  test('a frame is answered with its faces and what to change, in the operator language', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.merge({ locale: 'zh' }).create()
    const seen = await post(client, operator, await frameOf('faces/penny.png'))
    seen.assertStatus(200)
    const answer = seen.body()
    assert.equal(answer.width, 480)
    assert.lengthOf(answer.faces, 1)
    assert.properties(answer.faces[0], ['left', 'top', 'right', 'bottom'])
    assert.isBoolean(answer.ready)
    assert.match(answer.hint, /[\u4e00-\u9fff]/)

    const english = await UserFactory.create()
    const empty = await post(client, english, await frameOf('pairs/scenes/rocket.jpg'))
    assert.deepInclude(empty.body(), { ready: false, faces: [] })
    assert.equal(empty.body().hint, 'No face in view: the person looks into the camera.')

    const two = await post(client, english, await frameOf('groups/kit_with_rose.jpg'))
    assert.equal(two.body().hint, 'Only the person being enrolled should be in view.')
  })

  test('only operators who may enrol are answered', async ({ client }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const refused = await post(client, auditor, await frameOf('faces/penny.png'))
    refused.assertStatus(403)
  })
})
