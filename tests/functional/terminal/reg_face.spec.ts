import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import sharp from 'sharp'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import Person from '#models/person'
import EnrolmentReview from '#models/enrolment_review'
import AccessGroup from '#models/access_group'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
import terminalConfig from '#config/terminal'
import { EnrolmentReviewService } from '#services/enrolment_review_service'
import { FaceDbRevision } from '#faces/face_db_revision'
import { encodeFeature } from '#faces/feature_blob'
import { decodePhoto } from '#faces/photo_decoding'
import { MediaStore } from '#faces/media_store'
import {
  countRows,
  encodings,
  freshCopy,
  post,
  resetTerminalState,
  enrolPhotoOf,
  thumbnailFeature,
  useThumbnailAnalyser,
  tokenFor,
  unitVector,
  withoutEngine,
} from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures/faces', name))

async function base64Fixture(name: string) {
  const bytes = await fixture(name)
  return bytes.toString('base64')
}

/** The feature the thumbnail analyser computes for a picture, as a terminal would send it. */
async function featureOf(picture: Buffer) {
  const decoded = await decodePhoto(picture, 'picture')
  if (!decoded.ok) throw new Error('fixture does not decode')
  const vector = thumbnailFeature(decoded.image)
  if (!vector) throw new Error('fixture has no face')
  return { model: 'faceapi-recognition', vector }
}

test.group('Terminal protocol: regFace', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test(
    'the running engine computes the feature it stores; the same call again adds nothing ({$self})'
  )
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const picture = await fixture('sheldon.png')
      const fields = {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'sheldon',
        faceName: 'Sheldon Cooper',
        picBase64: picture.toString('base64'),
      }
      const first = await post(client, 'regFace', fields, encoding, device)
      assert.include(first.body(), { flag: 'regFace', code: 0, created: true })

      const [face] = await Face.query().where('id', first.body().faceId)
      assert.include(face.$attributes, {
        source: 'terminal',
        engine: 'engine',
        modelId: defaultEmbedder,
        dimension: featureLength(defaultEmbedder),
      })
      assert.isAbove(face.quality!, 0)
      assert.isBelow(face.box!.right - face.box!.left, 150)

      const retry = await post(client, 'regFace', fields, encoding, device)
      assert.include(retry.body(), { code: 0, created: false, faceId: face.id })
      assert.equal(await countRows('faces'), 1)
    })

  test('faceData from the engine is accepted for its own photo and refused for another', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const featureFrom = async (name: string) => {
      const response = await post(
        client,
        'faceFeature',
        { token: await tokenFor(client, device) },
        'multipart',
        device,
        { image: { data: await fixture(name), filename: name } }
      )
      return response.body().feature as string
    }
    const send = async (username: string, faceData: string) => {
      const fields = {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username,
        faceName: 'Sheldon',
        picBase64: await base64Fixture('sheldon.png'),
        faceData,
      }
      const response = await post(client, 'regFace', fields, 'form', device)
      return response.body()
    }

    const other = await send('sheldon1', await featureFrom('penny.png'))
    assert.include(other, { code: 2 })
    assert.match(other.message, /does not describe the face/)
    assert.equal(await countRows('faces'), 0)
    assert.include(await send('sheldon2', await featureFrom('sheldon.png')), { code: 0 })
  })

  test('without a recognition engine it answers 3 and stores nothing ({$self})')
    .with([...encodings])
    .run(async ({ client, assert, cleanup }, encoding) => {
      withoutEngine(cleanup)
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const picture = await fixture('sheldon.png')
      const response = await post(
        client,
        'regFace',
        {
          deviceName: device.name,
          deviceSN: device.serialNumber,
          username: 'sheldon',
          faceName: 'Sheldon Cooper',
          picBase64: picture.toString('base64'),
        },
        encoding,
        device
      )
      assert.include(response.body(), { flag: 'regFace', code: 3 })
      assert.match(response.body().message, /^Engine unsupported: no recognition engine is running/)
      assert.equal(await countRows('people'), 0)
      assert.equal(await countRows('faces'), 0)
    })

  test('it creates the person and the face; the same call again adds nothing', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailAnalyser(cleanup)
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const picture = await fixture('sheldon.png')
    const fields = {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      username: 'sheldon',
      faceName: 'Sheldon Cooper',
      picBase64: picture.toString('base64'),
    }

    const first = await post(client, 'regFace', fields, 'form', device)
    assert.include(first.body(), { flag: 'regFace', code: 0, username: 'sheldon', created: true })
    assert.match(
      first.body().message,
      /sheldon is new and passes no door until an operator approves/
    )

    const person = await Person.findByOrFail('username', 'sheldon')
    assert.equal(person.displayName, 'Sheldon Cooper')
    assert.equal(person.status, 'active')
    const revision = await new FaceDbRevision().current()
    assert.equal(Number(person.revision), revision)
    const [face] = await Face.query().where('person_id', person.id)
    assert.equal(face.id, first.body().faceId)
    assert.include(face.$attributes, {
      source: 'terminal',
      engine: 'thumbnail-test-engine',
      modelId: 'faceapi-recognition',
      dimension: 128,
    })
    assert.match(face.imagePath!, /^tmp\/storage\/faces\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/)
    const stored = await readFile(app.makePath(face.imagePath!))
    assert.isTrue(stored.equals(picture))
    await person.load('accessGroups')
    assert.lengthOf(person.accessGroups, 0)
    const actions = await AuditLog.query().where('actor', `device:${device.serialNumber}`)
    assert.sameMembers(
      actions.map((entry) => entry.action),
      ['person.create', 'person.consent', 'face.create']
    )
    const review = await EnrolmentReview.findByOrFail('person_id', person.id)
    assert.include(review.$attributes, { kind: 'new_person', faceId: face.id, deviceId: device.id })

    const retry = await post(client, 'regFace', fields, 'json', device)
    assert.include(retry.body(), { code: 0, created: false, faceId: face.id })
    assert.equal(await countRows('people'), 1)
    assert.equal(await countRows('faces'), 1)
    assert.equal(await new FaceDbRevision().current(), revision)
  })

  test('a face that matches the person is added without a review', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const enrol = async (picture: string) => {
      const fields = {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'sheldon',
        faceName: 'Sheldon Cooper',
        picBase64: await readFile(app.makePath('tests/fixtures/pairs', picture), 'base64'),
      }
      const response = await post(client, 'regFace', fields, 'form', device)
      return response.body()
    }
    assert.include(await enrol('jim_parsons_sheldon1.png'), { code: 0, created: true })
    const revision = await new FaceDbRevision().current()

    const second = await enrol('jim_parsons_sheldon2.png')
    assert.include(second, { code: 0, created: true, message: 'face enrolled' })
    assert.equal(await countRows('faces'), 2)
    assert.isAbove(await new FaceDbRevision().current(), revision)
    assert.equal(await countRows('enrolment_reviews'), 1, 'only the new person waits')
  })

  test('{case} is held for an operator: code 5, no face, no rename, one review')
    .with([
      {
        case: 'a face that does not match',
        picture: 'rose_leslie.jpg',
        name: 'Penny',
        reasons: ['no_match'],
      },
      { case: 'a rename', picture: 'penny.png', name: 'Penny Hofstadter', reasons: ['rename'] },
      {
        case: 'a rename with another face',
        picture: 'sheldon.png',
        name: 'Sheldon',
        reasons: ['no_match', 'rename'],
      },
    ])
    .run(async ({ client, assert, cleanup }, { picture, name, reasons }) => {
      await useThumbnailAnalyser(cleanup)
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const person = await PersonFactory.merge({ username: 'penny', displayName: 'Penny' })
        .apply('consented')
        .create()
      await enrolPhotoOf(person, await fixture('penny.png'))
      const revision = await new FaceDbRevision().current()
      const bytes = await fixture(picture)

      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await post(
          client,
          'regFace',
          regFields(device, 'penny', name, bytes),
          'form',
          device
        )
        assert.include(response.body(), { flag: 'regFace', code: 5 })
        assert.match(response.body().message, /^Bad state: held for an operator's review/)
      }

      await person.refresh()
      assert.equal(person.displayName, 'Penny')
      assert.equal(await countRows('faces'), 1)
      assert.equal(await new FaceDbRevision().current(), revision)
      const held = await EnrolmentReview.query().where('person_id', person.id)
      assert.lengthOf(held, 1)
      assert.include(held[0].$attributes, {
        kind: 'face_change',
        requestedName: name,
        deviceId: device.id,
      })
      assert.deepEqual(held[0].reasons, reasons)
      const stored = await readFile(app.makePath(held[0].imagePath!))
      assert.isTrue(stored.equals(bytes))
      assert.exists(await AuditLog.findBy('action', 'enrolment.hold'))
    })

  test('a face for a person with no face yet is held: there is nothing to match it with', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailAnalyser(cleanup)
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await PersonFactory.merge({ username: 'amy', displayName: 'Amy' }).create()
    const response = await post(
      client,
      'regFace',
      regFields(device, 'amy', 'Amy', await fixture('penny.png')),
      'form',
      device
    )
    assert.include(response.body(), { code: 5 })
    assert.match(response.body().message, /amy has no enrolled face to compare it with/)
    const [held] = await EnrolmentReview.query().where('person_id', person.id)
    assert.deepEqual(held.reasons, ['no_faces'])
    assert.equal(await countRows('faces'), 0)
  })

  test('faceData sent along is checked against the picture, never trusted', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailAnalyser(cleanup)
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const picture = await fixture('kit_harington.jpg')
    const send = async (faceData: string, username: string) => {
      const fields = { ...regFields(device, username, 'Kit', picture), faceData }
      const response = await post(client, 'regFace', fields, 'form', device)
      return response.body()
    }

    const otherModel = encodeFeature({ model: 'other-model', vector: unitVector(3) })
    assert.include(await send(otherModel, 'kit1'), { code: 73733 })
    const otherFace = encodeFeature(await featureOf(await fixture('penny.png')))
    const mismatch = await send(otherFace, 'kit2')
    assert.include(mismatch, { code: 2 })
    assert.match(mismatch.message, /does not describe the face/)
    assert.include(await send('bm90IGEgYmxvYg==', 'kit3'), { code: 2 })
    assert.include(await send('***', 'kit4'), { code: 2 })
    assert.equal(await countRows('people'), 0)

    const own = encodeFeature(await featureOf(picture))
    assert.include(await send(own, 'kit5'), { code: 0, created: true })
  })

  test('pictures that cannot be enrolled: {case}')
    .with([
      { case: 'not base64', picBase64: '@@@@', code: 2 },
      {
        case: 'not an image',
        picBase64: Buffer.from('plain text').toString('base64'),
        code: 69640,
      },
      { case: 'damaged image', picBase64: 'damaged', code: 9113 },
      { case: 'too many pixels', picBase64: 'huge', code: 69642 },
      { case: 'no face', picBase64: 'flat', code: 9006 },
    ])
    .run(async ({ client, assert, cleanup }, { picBase64, code }) => {
      const { analyser } = await useThumbnailAnalyser(cleanup)
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      const pictures: Record<string, () => Promise<Buffer>> = {
        damaged: async () => {
          const whole = await fixture('kit_harington.jpg')
          return whole.subarray(0, 2000)
        },
        huge: () =>
          sharp({ create: { width: 9000, height: 5000, channels: 3, background: '#808080' } })
            .png({ compressionLevel: 9 })
            .toBuffer(),
        flat: () =>
          sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
            .png()
            .toBuffer(),
      }
      const made = pictures[picBase64] ? await pictures[picBase64]() : null
      const bytes = made ? made.toString('base64') : picBase64
      const fields = {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'someone',
        faceName: 'Some One',
        picBase64: bytes,
      }
      const response = await post(client, 'regFace', fields, 'json', device)
      assert.include(response.body(), { flag: 'regFace', code })
      assert.equal(analyser.calls, code === 9006 ? 1 : 0)
      assert.equal(await countRows('people'), 0)
    })

  test('the device must be approved and allowed to enrol, and a token sent along is spent', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailAnalyser(cleanup)
    const picture = await fixture('sheldon.png')
    const pending = await DeviceFactory.create()
    const refused = await post(
      client,
      'regFace',
      regFields(pending, 'sheldon', 'S', picture),
      'form'
    )
    assert.include(refused.body(), { code: 9001 })

    const notAllowed = await DeviceFactory.apply('approved').create()
    const denied = await post(
      client,
      'regFace',
      regFields(notAllowed, 'sheldon', 'S', picture),
      'form',
      notAllowed
    )
    assert.include(denied.body(), { code: 9001 })
    assert.match(denied.body().message, /may not call regFace .*enrolment permission/)
    assert.equal(await countRows('people'), 0)

    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const token = await tokenFor(client, device)
    const withToken = { ...regFields(device, 'sheldon', 'S', picture), token }
    const accepted = await post(client, 'regFace', withToken, 'form', device)
    assert.include(accepted.body(), { code: 0 })
    const replayed = await post(client, 'regFace', withToken, 'form', device)
    assert.include(replayed.body(), { code: 7 })
  })

  test('a new person joins no access group, whatever REGFACE_ACCESS_GROUP says', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailAnalyser(cleanup)
    const configured = await AccessGroup.create({ name: 'Enrolled at terminals' })
    const before = terminalConfig.regFaceAccessGroup
    terminalConfig.regFaceAccessGroup = 'Enrolled at terminals'
    cleanup(() => {
      terminalConfig.regFaceAccessGroup = before
    })
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const response = await post(
      client,
      'regFace',
      regFields(device, 'joiner', 'Joiner', await fixture('penny.png')),
      'form',
      device
    )
    assert.equal(response.body().code, 0)
    await configured.load('people')
    assert.lengthOf(configured.people, 0)
    const review = await EnrolmentReview.findByOrFail('username', 'joiner')
    assert.equal(review.kind, 'new_person')
    const reviews = await app.container.make(EnrolmentReviewService)
    const preselected = await reviews.preselectedGroup()
    assert.equal(preselected?.id, configured.id)
  })

  test('refusals leave nothing behind: {case}')
    .with([
      {
        case: 'a group photo',
        photo: 'groups/kit_with_rose.jpg',
        username: 'kit',
        code: 73731,
        message: /picBase64 shows 2 faces/,
      },
      {
        case: 'the face of an enrolled person for a new username',
        photo: 'pairs/jim_parsons_sheldon2.png',
        username: 'alias',
        code: 5,
        message: /resembles another enrolled person; an operator enrols/,
      },
      {
        case: 'a new person from a device that records no consent',
        photo: 'faces/penny.png',
        username: 'penny',
        code: 5,
        message: /no biometric consent is on record for a new person/,
        withoutConsent: true,
      },
      {
        case: 'a person whose consent an operator never recorded',
        photo: 'faces/penny.png',
        username: 'operators_own',
        code: 5,
        message: /no biometric consent is on record for operators_own/,
        withoutConsent: true,
      },
    ])
    .run(async ({ client, assert }, { photo, username, code, message, withoutConsent }) => {
      const sheldon = await PersonFactory.merge({ username: 'sheldon' }).apply('consented').create()
      await enrolPhotoOf(
        sheldon,
        await readFile(app.makePath('tests/fixtures/pairs/jim_parsons_sheldon1.png'))
      )
      await PersonFactory.merge({ username: 'operators_own', displayName: 'Own' }).create()
      const device = await DeviceFactory.apply('approved').apply('enrolling').create()
      if (withoutConsent) {
        device.config = {}
        await device.save()
      }
      const people = await countRows('people')
      const revision = await new FaceDbRevision().current()
      const { bytes, format } = await freshCopy(
        await readFile(app.makePath('tests/fixtures', photo))
      )

      const response = await post(
        client,
        'regFace',
        regFields(device, username, username === 'operators_own' ? 'Own' : 'Someone', bytes),
        'form',
        device
      )
      assert.include(response.body(), { flag: 'regFace', code })
      assert.match(response.body().message, message)
      assert.notInclude(
        response.body().message,
        'sheldon',
        'a terminal never learns whom a face resembles'
      )

      assert.equal(await countRows('faces'), 1)
      assert.equal(await countRows('people'), people)
      assert.equal(await countRows('enrolment_reviews'), 0)
      assert.equal(await new FaceDbRevision().current(), revision)
      const media = await app.container.make(MediaStore)
      assert.isNull(await media.locate(media.facePhotoPath(bytes, format)))
    })
})

function regFields(
  device: { name: string; serialNumber: string },
  username: string,
  faceName: string,
  picture: Buffer
) {
  return {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    username,
    faceName,
    picBase64: picture.toString('base64'),
  }
}
