import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import sharp from 'sharp'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import Person from '#models/person'
import AccessGroup from '#models/access_group'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import terminalConfig from '#config/terminal'
import { FaceDbRevision } from '#services/face_db_revision'
import { encodeFeature } from '#services/feature_blob'
import { RecognitionEngine } from '#services/recognition_engine'
import { FaceEnroller } from '#services/terminal/face_enroller'
import { decodeTerminalImage } from '#services/terminal/terminal_images'
import {
  countRows,
  encodings,
  post,
  resetTerminalState,
  ThumbnailEnroller,
  tokenFor,
  unitVector,
  withoutEngine,
} from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures/faces', name))

async function base64Fixture(name: string) {
  const bytes = await fixture(name)
  return bytes.toString('base64')
}

async function useThumbnailEnroller(cleanup: (handler: () => void) => void) {
  const enroller = new ThumbnailEnroller(await app.container.make(RecognitionEngine))
  app.container.swap(FaceEnroller, () => enroller)
  cleanup(() => app.container.restore(FaceEnroller))
  return enroller
}

/** The feature the thumbnail enroller computes for a picture, as a terminal would send it. */
async function featureOf(picture: Buffer) {
  const decoded = await decodeTerminalImage(picture, 'picture')
  if (!decoded.ok) throw new Error('fixture does not decode')
  const outcome = await new ThumbnailEnroller(await app.container.make(RecognitionEngine)).enroll(
    decoded.image
  )
  if (!outcome.ok) throw new Error('fixture has no face')
  return outcome.feature
}

test.group('Terminal protocol: regFace', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test(
    'the running engine computes the feature it stores; the same call again adds nothing ({$self})'
  )
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const picture = await fixture('sheldon.png')
      const fields = {
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'sheldon',
        faceName: 'Sheldon Cooper',
        picBase64: picture.toString('base64'),
      }
      const first = await post(client, 'regFace', fields, encoding)
      assert.include(first.body(), { flag: 'regFace', code: 0, created: true })

      const [face] = await Face.query().where('id', first.body().faceId)
      assert.include(face.$attributes, {
        source: 'terminal',
        engine: 'engine',
        modelId: 'faceapi-recognition',
        dimension: 128,
      })
      assert.isAbove(face.quality!, 0)
      assert.isBelow(face.box!.right - face.box!.left, 150)

      const retry = await post(client, 'regFace', fields, encoding)
      assert.include(retry.body(), { code: 0, created: false, faceId: face.id })
      assert.equal(await countRows('faces'), 1)
    })

  test('faceData from the engine is accepted for its own photo and refused for another', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const featureFrom = async (name: string) => {
      const response = await client
        .post('/faces/api/faceFeature')
        .fields({ token: await tokenFor(client, device) })
        .file('image', await fixture(name), { filename: name })
      return response.body().feature as string
    }
    const send = async (username: string, faceData: string) => {
      const response = await client.post('/faces/api/regFace').form({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username,
        faceName: 'Kit',
        picBase64: await base64Fixture('kit_harington.jpg'),
        faceData,
      })
      return response.body()
    }

    const other = await send('kit1', await featureFrom('penny.png'))
    assert.include(other, { code: 2 })
    assert.match(other.message, /does not describe the face/)
    assert.equal(await countRows('faces'), 0)
    assert.include(await send('kit2', await featureFrom('kit_harington.jpg')), { code: 0 })
  })

  test('without a recognition engine it answers 3 and stores nothing ({$self})')
    .with([...encodings])
    .run(async ({ client, assert, cleanup }, encoding) => {
      withoutEngine(cleanup)
      const device = await DeviceFactory.apply('approved').create()
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
        encoding
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
    await useThumbnailEnroller(cleanup)
    const device = await DeviceFactory.apply('approved').create()
    const picture = await fixture('sheldon.png')
    const fields = {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      username: 'sheldon',
      faceName: 'Sheldon Cooper',
      picBase64: picture.toString('base64'),
    }

    const first = await client.post('/faces/api/regFace').form(fields)
    assert.include(first.body(), { flag: 'regFace', code: 0, username: 'sheldon', created: true })

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
      ['person.create', 'face.enroll']
    )

    const retry = await client.post('/faces/api/regFace').json(fields)
    assert.include(retry.body(), { code: 0, created: false, faceId: face.id })
    assert.equal(await countRows('people'), 1)
    assert.equal(await countRows('faces'), 1)
    assert.equal(await new FaceDbRevision().current(), revision)
  })

  test('an existing username gets the new name and a second photo', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailEnroller(cleanup)
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.merge({ username: 'penny', displayName: 'P.' }).create()
    for (const [name, picture] of [
      ['Penny', 'penny.png'],
      ['Penny Hofstadter', 'rose_leslie.jpg'],
    ]) {
      const response = await client.post('/faces/api/regFace').fields({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'penny',
        faceName: name,
        picBase64: await base64Fixture(picture),
      })
      assert.include(response.body(), { code: 0, created: true })
    }
    await person.refresh()
    assert.equal(person.displayName, 'Penny Hofstadter')
    assert.equal(await countRows('faces'), 2)
  })

  test('faceData sent along is checked against the picture, never trusted', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailEnroller(cleanup)
    const device = await DeviceFactory.apply('approved').create()
    const picture = await fixture('kit_harington.jpg')
    const send = async (faceData: string, username: string) => {
      const response = await client.post('/faces/api/regFace').form({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username,
        faceName: 'Kit',
        picBase64: picture.toString('base64'),
        faceData,
      })
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
      const enroller = await useThumbnailEnroller(cleanup)
      const device = await DeviceFactory.apply('approved').create()
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
      const response = await client.post('/faces/api/regFace').json({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        username: 'someone',
        faceName: 'Some One',
        picBase64: bytes,
      })
      assert.include(response.body(), { flag: 'regFace', code })
      assert.equal(enroller.calls, code === 9006 ? 1 : 0)
      assert.equal(await countRows('people'), 0)
    })

  test('the device must be approved, and a token sent along is spent', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailEnroller(cleanup)
    const picBase64 = await base64Fixture('sheldon.png')
    const pending = await DeviceFactory.create()
    const fields = { username: 'sheldon', faceName: 'Sheldon', picBase64 }
    const refused = await client
      .post('/faces/api/regFace')
      .form({ deviceName: pending.name, deviceSN: pending.serialNumber, ...fields })
    assert.include(refused.body(), { code: 9001 })

    const device = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, device)
    const withToken = { deviceName: device.name, deviceSN: device.serialNumber, token, ...fields }
    const accepted = await client.post('/faces/api/regFace').form(withToken)
    assert.include(accepted.body(), { code: 0 })
    const replayed = await client.post('/faces/api/regFace').form(withToken)
    assert.include(replayed.body(), { code: 7 })
  })

  test('new people join the access group REGFACE_ACCESS_GROUP names', async ({
    client,
    assert,
    cleanup,
  }) => {
    await useThumbnailEnroller(cleanup)
    const joined = await AccessGroup.create({ name: 'Enrolled at terminals' })
    const configured = terminalConfig.regFaceAccessGroup
    terminalConfig.regFaceAccessGroup = 'Enrolled at terminals'
    cleanup(() => {
      terminalConfig.regFaceAccessGroup = configured
    })
    const device = await DeviceFactory.apply('approved').create()
    const response = await client.post('/faces/api/regFace').form({
      deviceName: device.name,
      deviceSN: device.serialNumber,
      username: 'joiner',
      faceName: 'Joiner',
      picBase64: await base64Fixture('penny.png'),
    })
    assert.equal(response.body().code, 0)
    await joined.load('people')
    assert.deepEqual(
      joined.people.map((person) => person.username),
      ['joiner']
    )
  })
})
