import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import type Device from '#models/device'
import type Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { commandLineActor } from '#services/audit_trail'
import { DeviceService } from '#services/device_service'
import { FaceDbRevision } from '#faces/face_db_revision'
import { decodeFeature } from '#faces/feature_blob'
import { PeopleService } from '#services/people_service'
import { FacePictureLinks } from '#services/terminal/face_picture_links'
import { MediaStore } from '#faces/media_store'
import {
  addFace,
  grant,
  post,
  resetTerminalState,
  serverUrl,
  tokenFor,
  touchPerson,
  type Fields,
} from '#tests/helpers/terminal'

async function getDbs(client: ApiClient, device: Device, extra: Fields = {}) {
  const token = await tokenFor(client, device)
  return post(
    client,
    'getDbs',
    { deviceName: device.name, deviceSN: device.serialNumber, token, ...extra },
    'json',
    device
  )
}

async function answer(client: ApiClient, device: Device, extra: Fields = {}) {
  const response = await getDbs(client, device, extra)
  return response.body()
}

const usernamesOf = (names: { username: string }[]) =>
  [...new Set(names.map((entry) => entry.username))].sort()

async function storedPhoto() {
  const bytes = await readFile(app.makePath('tests/fixtures/faces/penny.png'))
  return { bytes, path: await new MediaStore().saveFacePhoto(bytes, 'png') }
}

test.group('Terminal protocol: getDbs', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('lists exactly the people the device may admit, with their faces', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const elsewhere = await DeviceFactory.apply('approved').create()
    const admitted = await PersonFactory.merge({ displayName: 'Ada Admitted' }).create()
    const twoFaces = await PersonFactory.create()
    const suspended = await PersonFactory.apply('suspended').create()
    const expired = await PersonFactory.apply('expired').create()
    const notYet = await PersonFactory.merge({
      validFrom: DateTime.now().plus({ days: 2 }),
    }).create()
    const otherDoor = await PersonFactory.create()
    const noGroup = await PersonFactory.create()
    const faceless = await PersonFactory.create()
    for (const person of [admitted, twoFaces, suspended, expired, notYet, otherDoor, noGroup]) {
      await addFace(person)
    }
    await addFace(twoFaces, { seed: 999 })
    await grant([admitted, twoFaces, suspended, expired, notYet, faceless], [device])
    await grant([otherDoor], [elsewhere])

    const response = await getDbs(client, device)
    response.assertStatus(200)
    const body = response.body()
    assert.include(body, { flag: 'getDbs', code: 0, full: true })
    assert.deepEqual(body.removed, [])
    assert.equal(body.revision, await new FaceDbRevision().current())
    assert.deepEqual(usernamesOf(body.names), [admitted.username, twoFaces.username].sort())
    assert.lengthOf(body.names, 3)

    const entry = body.names.find(
      (name: { username: string }) => name.username === admitted.username
    )
    assert.deepEqual(Object.keys(entry).sort(), ['faceData', 'name', 'picUrl', 'username'])
    assert.equal(entry.name, 'Ada Admitted')
    assert.equal(entry.picUrl, '')
    const feature = decodeFeature(entry.faceData)
    assert.isTrue(feature.ok)
    if (feature.ok) {
      assert.equal(feature.feature.model, 'faceapi-recognition')
      assert.lengthOf(feature.feature.vector, 128)
    }
  })

  test('with since, sends what was added, changed and removed', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const [stays, renamed, deleted, suspended, leaving] = await PersonFactory.createMany(5)
    for (const person of [stays, renamed, deleted, suspended, leaving]) await addFace(person)
    const doorGroup = await grant([stays, renamed, deleted, suspended, leaving], [device])

    const first = await answer(client, device)
    assert.lengthOf(first.names, 5)

    const newcomer = await PersonFactory.create()
    await addFace(newcomer)
    await doorGroup.related('people').attach([newcomer.id])
    await touchPerson(newcomer)
    const people = await app.container.make(PeopleService)
    const actor = commandLineActor()
    await people.update(actor, renamed, { displayName: 'Now Renamed', status: 'active' })
    await people.delete(actor, deleted)
    await people.setStatus(actor, suspended, 'suspended')
    await doorGroup.related('people').detach([leaving.id])
    await touchPerson(leaving)

    const second = await answer(client, device, { since: first.revision })
    assert.include(second, { code: 0, full: false })
    assert.isAbove(second.revision, first.revision)
    assert.deepEqual(usernamesOf(second.names), [newcomer.username, renamed.username].sort())
    assert.equal(
      second.names.find((entry: { username: string }) => entry.username === renamed.username).name,
      'Now Renamed'
    )
    assert.deepEqual(
      [...second.removed].sort(),
      [deleted.username, suspended.username, leaving.username].sort()
    )

    const third = await answer(client, device, { since: second.revision })
    assert.include(third, { full: false, revision: second.revision })
    assert.deepEqual(third.names, [])
    assert.deepEqual(third.removed, [])
  })

  test('with since, validity that began or ended since the last answer counts as a change', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const ending = await PersonFactory.merge({
      validUntil: DateTime.now().plus({ seconds: 1 }),
    }).create()
    const starting = await PersonFactory.merge({
      validFrom: DateTime.now().plus({ seconds: 1 }),
    }).create()
    await addFace(ending)
    await addFace(starting)
    await grant([ending, starting], [device])

    const first = await answer(client, device)
    assert.deepEqual(usernamesOf(first.names), [ending.username])
    await new Promise((resolve) => setTimeout(resolve, 2200))

    const second = await answer(client, device, { since: first.revision })
    assert.include(second, { full: false, revision: first.revision })
    assert.deepEqual(usernamesOf(second.names), [starting.username])
    assert.deepEqual(second.removed, [ending.username])
  })

  test('a since the device was not last sent, or after its grants changed, gets everything', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await addFace(person)
    await grant([person], [device])
    await touchPerson(person)
    const first = await answer(client, device)

    const older = await answer(client, device, { since: first.revision - 1 })
    assert.include(older, { full: true })
    assert.lengthOf(older.names, 1)
    const ahead = await answer(client, device, { since: first.revision + 100 })
    assert.include(ahead, { full: true })

    const devices = await app.container.make(DeviceService)
    await devices.setStatus(commandLineActor(), device, 'blocked')
    await devices.setStatus(commandLineActor(), device, 'approved')
    const regranted = await answer(client, device, { since: ahead.revision })
    assert.include(regranted, { full: true })
    assert.lengthOf(regranted.names, 1)

    const malformed = await getDbs(client, device, { since: 'yesterday' })
    assert.include(malformed.body(), { code: 2 })
  })

  test('picUrl downloads the photo without a session', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    const photo = await storedPhoto()
    const face = await addFace(person, { imagePath: photo.path })
    await grant([person], [device])

    const { names } = await answer(client, device)
    const url = new URL(names[0].picUrl)
    assert.equal(url.pathname, `/faces/api/pictures/${face.id}`)
    assert.equal(url.origin, serverUrl)

    const download = await fetch(names[0].picUrl)
    assert.equal(download.status, 200)
    assert.equal(download.headers.get('content-type'), 'image/png')
    assert.isTrue(Buffer.from(await download.arrayBuffer()).equals(photo.bytes))
  })

  test('picUrl is refused when altered or expired', async ({ client, assert, cleanup }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    const photo = await storedPhoto()
    const face = await addFace(person, { imagePath: photo.path })
    const other = await addFace(person, { imagePath: photo.path, seed: 5 })
    await grant([person], [device])
    const { names } = await answer(client, device)
    const link = names.find((entry: { picUrl: string }) =>
      entry.picUrl.includes(`/${face.id}?`)
    ).picUrl

    const url = new URL(link)
    const signature = url.searchParams.get('signature')!
    url.searchParams.set(
      'signature',
      signature.slice(0, -2) + (signature.endsWith('A') ? 'BB' : 'AA')
    )
    const tampered = await fetch(url)
    assert.equal(tampered.status, 403)
    assert.include(await tampered.json(), { flag: 'picture', code: 7 })

    const elsewhere = await fetch(link.replace(`/${face.id}?`, `/${other.id}?`))
    assert.equal(elsewhere.status, 403)

    app.container.swap(FacePictureLinks, () => new FacePictureLinks(new MediaStore(), 1))
    cleanup(() => app.container.restore(FacePictureLinks))
    const { names: shortLived } = await answer(client, device)
    const short = shortLived[0].picUrl
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const expired = await fetch(short)
    assert.equal(expired.status, 403)
    const body = (await expired.json()) as { flag: string; code: number; message: string }
    assert.include(body, { flag: 'picture', code: 7 })
    assert.match(body.message, /expired or altered/)
  })

  test('a face whose photo is gone answers 12 as JSON', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await addFace(person, { imagePath: 'tmp/storage/faces/none/missing.png' })
    await grant([person], [device])
    const { names } = await answer(client, device)
    const response = await fetch(names[0].picUrl)
    assert.equal(response.status, 404)
    assert.include(await response.json(), { flag: 'picture', code: 12 })
  })

  test('large answers are compressed for clients that accept it', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const people: Person[] = await PersonFactory.createMany(30)
    for (const person of people) await addFace(person)
    await grant(people, [device])

    for (const encoding of ['gzip', 'br']) {
      const token = await tokenFor(client, device)
      const response = await post(
        client,
        'getDbs',
        { deviceName: device.name, deviceSN: device.serialNumber, token },
        'form',
        device
      ).header('accept-encoding', encoding)
      assert.equal(response.header('content-encoding'), encoding)
      assert.lengthOf(response.body().names, 30)
    }
    const token = await tokenFor(client, device)
    const plain = await post(
      client,
      'getDbs',
      { deviceName: device.name, deviceSN: device.serialNumber, token },
      'form',
      device
    ).header('accept-encoding', 'identity')
    assert.isUndefined(plain.header('content-encoding'))
    assert.lengthOf(plain.body().names, 30)
  })
})
