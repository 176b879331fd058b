import { readFile, stat } from 'node:fs/promises'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import redis from '@adonisjs/redis/services/main'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import Holiday from '#models/holiday'
import Person from '#models/person'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { PersonFacesService } from '#faces/person_faces_service'
import { UserFactory } from '#database/factories/user_factory'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
import { AccessEventFeed, type AccessEventNotice } from '#services/access_event_feed'
import { GalleryIndex } from '#faces/gallery_index'
import { RecognitionEngine } from '#faces/recognition_engine'
import { embeddingBytes } from '#faces/face_data'
import { countRows, grant, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

/**
 * Online identification on the real engine with the photos of
 * tests/fixtures/pairs: enrolled through regFace, identified through
 * faceIdentify, decided by the access rules, recorded as events.
 */
const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

async function enrol(client: ApiClient, device: Device, username: string, file: string) {
  const picture = await photo(file)
  const response = await post(
    client,
    'regFace',
    {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      username,
      faceName: username.replace('.', ' '),
      picBase64: picture.toString('base64'),
    },
    'form',
    device
  )
  if (response.body().code !== 0) throw new Error(`not enrolled: ${response.text()}`)
  return Person.findByOrFail('username', username)
}

async function identify(
  client: ApiClient,
  device: Device,
  file: string,
  options: { encoding?: 'multipart' | 'form' | 'json'; cardNumber?: string } = {}
) {
  const image = await photo(file)
  const fields = { token: await tokenFor(client, device), cardNumber: options.cardNumber }
  const encoding = options.encoding ?? 'multipart'
  const response =
    encoding === 'multipart'
      ? await post(client, 'faceIdentify', fields, 'multipart', device, {
          image: { data: image, filename: file },
        })
      : await post(
          client,
          'faceIdentify',
          { ...fields, image: image.toString('base64') },
          encoding,
          device
        )
  return response.body()
}

/**
 * A unit vector of pseudo-random values, different for each seed: random
 * directions in hundreds of dimensions are nearly orthogonal, so each is nearest
 * to itself alone.
 */
function spread(seed: number) {
  let state = seed >>> 0
  const vector = new Float32Array(featureLength(defaultEmbedder)).map(() => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296 - 0.5
  })
  const norm = Math.hypot(...vector)
  return vector.map((value) => value / norm)
}

const until = async (check: () => Promise<boolean>, what: string) => {
  for (let waited = 0; waited < 3000; waited += 20) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting until ${what}`)
}

test.group('Terminal protocol: faceIdentify', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a person enrolled by regFace is granted at a device of their group ({$self})')
    .with(['multipart', 'form', 'json'] as const)
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
      await grant([person], [device])

      const answer = await identify(client, device, 'barack_obama_02.jpg', { encoding })
      assert.include(answer, {
        flag: 'faceidentify',
        code: 0,
        message: 'granted (granted)',
        decision: 'granted',
        reason: 'granted',
      })
      assert.deepEqual(answer.person, { username: 'barack.obama', name: 'barack obama' })
      assert.isAtLeast(answer.score, 0.6)
      assert.isAtMost(answer.score, 1)

      const event = await AccessEvent.findOrFail(answer.eventId)
      assert.include(event.$attributes, {
        deviceId: device.id,
        personId: person.id,
        decision: 'granted',
        reason: 'granted',
        method: 'face',
        reportedName: null,
      })
      assert.closeTo(event.score!, answer.score, 1e-6)
      assert.match(event.snapshotPath!, /^tmp\/storage\/snapshots\/.+\.jpg$/)
      const snapshot = await stat(app.makePath(event.snapshotPath!))
      assert.isTrue(snapshot.isFile())
    })

  test('someone not enrolled is unknown, with the best score below 0.6', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    await grant([person], [device])

    const answer = await identify(client, device, 'joe_biden_01.jpg')
    assert.include(answer, { code: 0, decision: 'denied', reason: 'unknown_face', person: null })
    assert.isBelow(answer.score, 0.6)
    const event = await AccessEvent.findOrFail(answer.eventId)
    assert.isNull(event.personId)
    assert.equal(event.reason, 'unknown_face')
  })

  test('the threshold rises with the gallery: 1,000 faces name someone only from about 0.8', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    await grant([person], [device])
    const small = await identify(client, device, 'barack_obama_02.jpg')
    assert.equal(small.threshold, 0.6)

    await addStrangers(999)
    assert.equal(await countRows('faces'), 1000)
    const gallery = await app.container.make(GalleryIndex)
    await gallery.forget()
    const large = await identify(client, device, 'barack_obama_02.jpg')
    assert.closeTo(large.threshold, 0.7998, 1e-4)
    const event = await AccessEvent.findOrFail(large.eventId)
    assert.closeTo(event.threshold!, 0.7998, 1e-4)
    assert.closeTo(event.score!, large.score, 1e-6)
    assert.equal(event.runnerUpScore, large.runnerUpScore)
    if (large.score >= large.threshold) {
      assert.include(large, { decision: 'granted', reason: 'granted' })
    } else {
      assert.include(large, { decision: 'denied', reason: 'unknown_face', person: null })
    }
  })

  test("a device's own FPIR target sets its threshold", async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved')
      .apply('enrolling')
      .merge({ config: { identifyTargetFpir: 0.001, enrolmentConsentVersion: 'terminal-v1' } })
      .create()
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    await grant([person], [device])
    await addStrangers(9)

    const answer = await identify(client, device, 'barack_obama_02.jpg')
    // Ten faces at 0.1 %: one comparison may err once in 10,000.
    assert.closeTo(answer.threshold, 0.7, 1e-3)
  })

  test('two people enrolled with the same face are both too close to name', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const first = await enrol(client, device, 'kit.one', 'kit_harington_01.jpg')
    const photo01 = await photo('kit_harington_01.jpg')
    const refused = await post(
      client,
      'regFace',
      {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'kit.two',
        faceName: 'kit two',
        picBase64: photo01.toString('base64'),
      },
      'form',
      device
    )
    assert.include(refused.body(), { code: 5 }, 'a terminal cannot enrol a second person with it')
    // An operator can, saying why (twins).
    const second = await PersonFactory.merge({ username: 'kit.two' }).apply('consented').create()
    const faces = await app.container.make(PersonFacesService)
    const actor = { userId: null, label: 'test', ip: null }
    const added = await faces.addPhoto(actor, second, photo01, {
      confirmed: { differentPeople: 'identical twins' },
    })
    assert.isTrue(added.ok)
    await grant([first, second], [device])

    const answer = await identify(client, device, 'kit_harington_03.jpg')
    assert.include(answer, { code: 0, decision: 'denied', reason: 'unknown_face', person: null })
    assert.isAtLeast(answer.score, answer.threshold)
    assert.isBelow(answer.score - answer.runnerUpScore, 0.03)
  })

  test('with nobody enrolled the face is unknown and the score null', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const answer = await identify(client, device, 'rose_leslie_01.jpg', { encoding: 'json' })
    assert.include(answer, { code: 0, decision: 'denied', reason: 'unknown_face', score: null })
  })

  test('a recognised person is refused with the reason: {$self}')
    .with(['suspended', 'expired', 'not_authorized', 'outside_schedule', 'holiday'] as const)
    .run(async ({ client, assert }, situation) => {
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const person = await enrol(client, device, 'kit.harington', 'kit_harington_01.jpg')
      const now = DateTime.now()
      if (situation === 'suspended') person.status = 'suspended'
      if (situation === 'expired') person.validUntil = now.minus({ days: 1 })
      await person.save()
      if (situation === 'outside_schedule' || situation === 'holiday') {
        const schedule = await Schedule.create({ name: `Schedule ${situation}` })
        const minute = now.hour * 60 + now.minute
        const start = (minute + 120) % 1380
        const window =
          situation === 'holiday'
            ? { startsAtMinute: 0, endsAtMinute: 1440 }
            : { startsAtMinute: start, endsAtMinute: start + 30 }
        await ScheduleWindow.create({ scheduleId: schedule.id, weekday: now.weekday, ...window })
        if (situation === 'holiday') {
          await Holiday.create({ scheduleId: schedule.id, date: now.startOf('day'), name: 'Today' })
        }
        await grant([person], [device], schedule.id)
      } else if (situation !== 'not_authorized') {
        await grant([person], [device])
      }

      const answer = await identify(client, device, 'kit_harington_03.jpg')
      const reason = situation === 'holiday' ? 'outside_schedule' : situation
      assert.include(answer, { code: 0, decision: 'denied', reason })
      assert.equal(answer.person.username, 'kit.harington')
      assert.isAtLeast(answer.score, 0.6)
      const event = await AccessEvent.findOrFail(answer.eventId)
      assert.include(event.$attributes, { personId: person.id, decision: 'denied', reason })
    })

  test('a schedule window that covers now grants', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await enrol(client, device, 'kit.harington', 'kit_harington_01.jpg')
    const schedule = await Schedule.create({ name: 'All of today' })
    const now = DateTime.now()
    await ScheduleWindow.create({
      scheduleId: schedule.id,
      weekday: now.weekday,
      startsAtMinute: 0,
      endsAtMinute: 1440,
    })
    await grant([person], [device], schedule.id)
    const answer = await identify(client, device, 'kit_harington_02.jpg')
    assert.include(answer, { decision: 'granted', reason: 'granted' })
  })

  test('a device that asks for face and card admits only with the right card', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved')
      .apply('enrolling')
      .merge({ requiredFactors: 'face_card' })
      .create()
    const person = await enrol(client, device, 'rose.leslie', 'rose_leslie_01.jpg')
    person.cardNumber = '04A1B2C3'
    await person.save()
    await grant([person], [device])

    const withoutCard = await identify(client, device, 'rose_leslie_02.jpg')
    assert.include(withoutCard, { code: 0, decision: 'denied', reason: 'not_authorized' })
    assert.equal(withoutCard.person.username, 'rose.leslie')
    const wrongCard = await identify(client, device, 'rose_leslie_02.jpg', {
      cardNumber: '04A1B2C4',
    })
    assert.include(wrongCard, { decision: 'denied', reason: 'not_authorized' })
    const rightCard = await identify(client, device, 'rose_leslie_02.jpg', {
      cardNumber: '04:a1:b2:c3',
      encoding: 'form',
    })
    assert.include(rightCard, { decision: 'granted', reason: 'granted' })
    const event = await AccessEvent.findOrFail(rightCard.eventId)
    assert.equal(event.method, 'face_card')
  })

  test('every decision reaches the live Events page', async ({ client, cleanup }) => {
    const device = await DeviceFactory.apply('approved').create()
    const feed = new AccessEventFeed()
    const notices: AccessEventNotice[] = []
    await new Promise<void>((resolve) => {
      const unsubscribe = feed.subscribe((notice) => notices.push(notice), resolve)
      cleanup(() => void unsubscribe())
    })
    const answer = await identify(client, device, 'joe_biden_02.jpg')
    await until(async () => notices.some(({ id }) => id === answer.eventId), 'announced')
  })

  test('what is not identified records nothing: {case}')
    .with([
      { case: 'no face', code: 9006 },
      { case: 'a replayed token', code: 7 },
      { case: 'no image', code: 9005 },
      { case: 'a card number that is no card number', code: 2 },
    ])
    .run(async ({ client, assert }, { code }) => {
      const device = await DeviceFactory.apply('approved').create()
      const token = await tokenFor(client, device)
      const rocket = await photo('scenes/rocket.jpg')
      const withRocket = () =>
        post(client, 'faceIdentify', { token }, 'multipart', device, {
          image: { data: rocket, filename: 'rocket.jpg' },
        })
      const answers = {
        9006: withRocket,
        7: async () => {
          await withRocket()
          return withRocket()
        },
        9005: () => post(client, 'faceIdentify', { token }, 'form', device),
        2: () =>
          post(
            client,
            'faceIdentify',
            { token, cardNumber: 'not a card', image: rocket.toString('base64') },
            'json',
            device
          ),
      }
      const response = await answers[code as keyof typeof answers]()
      assert.include(response.body(), { flag: 'faceidentify', code })
      assert.equal(await countRows('access_events'), 0)
    })
})

test.group('Gallery index', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('it picks up a face enrolled through regFace and forgets a deleted person', async ({
    client,
    assert,
  }) => {
    const gallery = await app.container.make(GalleryIndex)
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const first = await identify(client, device, 'kit_harington_02.jpg')
    assert.include(first, { reason: 'unknown_face', score: null })
    const loads = gallery.status().loads

    const person = await enrol(client, device, 'kit.harington', 'kit_harington_01.jpg')
    await grant([person], [device])
    const known = await identify(client, device, 'kit_harington_02.jpg')
    assert.include(known, { decision: 'granted' })
    assert.include(gallery.status(), { faces: 1, model: defaultEmbedder })

    const operator = await UserFactory.create()
    const deleted = await client
      .delete(`/admin/people/${person.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    deleted.assertStatus(302)
    const forgotten = await identify(client, device, 'kit_harington_02.jpg')
    assert.include(forgotten, { decision: 'denied', reason: 'unknown_face', person: null })
    assert.include(gallery.status(), { faces: 0, loads }, 'changed in place, never reloaded')
  })

  test('another process hears of every change, and reloads when it missed one', async ({
    client,
    assert,
    cleanup,
  }) => {
    const recognition = await app.container.make(RecognitionEngine)
    const loaded = await recognition.comparator()
    if (!loaded.ok) throw new Error('no calibrations')
    const other = new GalleryIndex()
    cleanup(() => other.close())
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()

    const probeOf = async (file: string) => {
      const embedded = await recognition.withPicture(await photo(file), 'image', ({ picture }) =>
        picture.embed()
      )
      if (!embedded.ok) throw new Error('no face')
      return embedded.feature
    }
    const probe = await probeOf('rose_leslie_02.jpg')
    const best = async () => {
      const search = await other.search(probe, loaded.comparator, 1)
      return search.ok ? (search.matches[0] ?? null) : null
    }
    const bestPerson = async () => {
      const match = await best()
      return match?.personId
    }
    assert.isNull(await best())
    assert.equal(other.status().loads, 1)

    const person = await enrol(client, device, 'rose.leslie', 'rose_leslie_01.jpg')
    await until(async () => (await bestPerson()) === person.id, 'the face arrives')
    const match = await best()
    assert.isAtLeast(match!.score, 0.6)

    await enrol(client, device, 'someone.else', 'joe_biden_01.jpg')
    await until(async () => other.status().faces === 2, 'the second face arrives')
    const operator = await UserFactory.create()
    await client.delete(`/admin/people/${person.id}`).loginAs(operator).withCsrfToken().redirects(0)
    await until(async () => (await bestPerson()) !== person.id, 'the person leaves')
    assert.include(other.status(), { faces: 1, loads: 1 })

    await redis.incr(GalleryIndex.revisionKey)
    const skipped = Number(await redis.incr(GalleryIndex.revisionKey))
    await redis.publish(
      GalleryIndex.channel,
      JSON.stringify({ revision: skipped, change: { type: 'person_removed', personId: 0 } })
    )
    await until(async () => other.status().loads === 2, 'a gap makes it reload')
    assert.include(other.status(), { faces: 1, revision: skipped })
  })
  test('searches notice a missed announcement, or Redis losing the revision, and reload', async ({
    client,
    assert,
    cleanup,
  }) => {
    const interval = GalleryIndex.checkIntervalMs
    GalleryIndex.checkIntervalMs = 0
    cleanup(() => {
      GalleryIndex.checkIntervalMs = interval
    })
    const recognition = await app.container.make(RecognitionEngine)
    const loaded = await recognition.comparator()
    if (!loaded.ok) throw new Error('no calibrations')
    const gallery = await app.container.make(GalleryIndex)
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    await enrol(client, device, 'joe.biden', 'joe_biden_01.jpg')
    const probe = {
      model: defaultEmbedder,
      vector: new Float32Array(featureLength(defaultEmbedder)).fill(
        featureLength(defaultEmbedder) ** -0.5
      ),
    }
    const search = () => gallery.search(probe, loaded.comparator)
    await search()
    const loads = gallery.status().loads

    await redis.incr(GalleryIndex.revisionKey)
    await search()
    assert.equal(gallery.status().loads, loads, 'a message may still be on its way')
    await search()
    assert.equal(gallery.status().loads, loads + 1, 'still behind: it was missed')

    await redis.del(GalleryIndex.revisionKey)
    await search()
    assert.equal(gallery.status().loads, loads + 2)
    assert.include(gallery.status(), { faces: 1, revision: 0 })
  })
  test('faces added past the first allocation and people removed keep the search exact', async ({
    assert,
    cleanup,
  }) => {
    const { gallery, loaded } = await ownGallery(cleanup)
    const feature = (seed: number) => ({ model: defaultEmbedder, vector: spread(seed) })
    const nearest = async (seed: number) => {
      const search = await gallery.search(feature(seed), loaded.comparator, 1)
      return search.ok ? search.matches[0] : null
    }
    assert.isUndefined(await nearest(1))

    for (let faceId = 1; faceId <= 1500; faceId++) {
      await gallery.faceAdded({ faceId, personId: Math.ceil(faceId / 3), feature: feature(faceId) })
    }
    assert.equal(gallery.status().faces, 1500)
    assert.include(await nearest(1400), { faceId: 1400, personId: 467 })

    for (const personId of [1, 250, 467, 500]) await gallery.personRemoved(personId)
    assert.equal(gallery.status().faces, 1488)
    const after = await nearest(1400)
    assert.notEqual(after?.personId, 467)
    for (const faceId of [4, 700, 1200, 1497]) {
      const match = await nearest(faceId)
      assert.equal(match?.faceId, faceId)
      assert.closeTo(match!.similarity, 1, 1e-6)
    }
  })

  test('a person with several faces is also searched as a whole, as faces come and go', async ({
    assert,
    cleanup,
  }) => {
    const { gallery, loaded } = await ownGallery(cleanup)
    const [first, second] = [spread(1), spread(2)]
    const between = first.map((value, i) => value + second[i])
    const norm = Math.hypot(...between)
    const probe = { model: defaultEmbedder, vector: between.map((value) => value / norm) }
    const search = async () => {
      const found = await gallery.search(probe, loaded.comparator, 4)
      if (!found.ok) throw new Error('uncalibrated')
      return found
    }
    const empty = await search()
    assert.equal(empty.searched, 0)

    await gallery.faceAdded({
      faceId: 1,
      personId: 10,
      feature: { model: defaultEmbedder, vector: first },
    })
    await gallery.faceAdded({
      faceId: 3,
      personId: 20,
      feature: { model: defaultEmbedder, vector: spread(3) },
    })
    let found = await search()
    assert.include(found, { galleryFaces: 2, searched: 2 })
    const alone = found.matches[0]
    assert.include(alone, { faceId: 1, personId: 10 })

    await gallery.faceAdded({
      faceId: 2,
      personId: 10,
      feature: { model: defaultEmbedder, vector: second },
    })
    found = await search()
    assert.include(found, { galleryFaces: 3, searched: 4 })
    assert.include(found.matches[0], { faceId: null, personId: 10 })
    assert.closeTo(found.matches[0].similarity, 1, 1e-5)
    assert.isAbove(found.matches[0].score, alone.score)
    assert.include(gallery.status(), { faces: 3, templates: 1 })

    await gallery.faceRemoved(2)
    found = await search()
    assert.include(found, { galleryFaces: 2, searched: 2 })
    assert.include(found.matches[0], { faceId: 1, personId: 10 })
    assert.closeTo(found.matches[0].similarity, alone.similarity, 1e-6)

    await gallery.faceAdded({
      faceId: 2,
      personId: 10,
      feature: { model: defaultEmbedder, vector: second },
    })
    await gallery.personRemoved(10)
    found = await search()
    assert.include(found, { galleryFaces: 1, searched: 1 })
    assert.notInclude(
      found.matches.map((match) => match.personId),
      10
    )
  })
})

/** A gallery of this test's own, fed by its calls alone, and the server's comparator. */
async function ownGallery(cleanup: (close: () => Promise<void>) => void) {
  const recognition = await app.container.make(RecognitionEngine)
  const comparator = await recognition.comparator()
  if (!comparator.ok) throw new Error('no calibrations')
  const gallery = new GalleryIndex()
  cleanup(() => gallery.close())
  return { gallery, loaded: comparator }
}

/**
 * People of one synthetic face each (random directions, far from any real
 * face), inserted straight into the database as a large site's gallery;
 * the gallery is loaded again at its next search, as after a restart.
 */
async function addStrangers(count: number) {
  const now = DateTime.now().toSQL({ includeOffset: false })
  for (let start = 0; start < count; start += 200) {
    const rows = Array.from({ length: Math.min(200, count - start) }, (_, i) => ({
      username: `stranger.${start + i}`,
      display_name: `Stranger ${start + i}`,
      status: 'active',
      revision: 0,
      created_at: now,
      updated_at: now,
    }))
    await db.table('people').insert(rows)
    const people = await db
      .from('people')
      .whereIn(
        'username',
        rows.map((row) => row.username)
      )
      .orderBy('id')
      .select('id', 'username')
    await db.table('faces').insert(
      people.map((row: { id: number; username: string }) => ({
        person_id: row.id,
        embedding: embeddingBytes(spread(10_000 + Number(row.username.split('.')[1]))),
        engine: 'engine',
        model_id: defaultEmbedder,
        dimension: featureLength(defaultEmbedder),
        source: 'api',
        created_at: now,
      }))
    )
  }
  const gallery = await app.container.make(GalleryIndex)
  await gallery.forget()
}
