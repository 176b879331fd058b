import { readFile } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { decodeFeature, encodeFeature } from '#faces/feature_blob'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
import {
  countRows,
  post,
  resetTerminalState,
  signedBytesPost,
  tokenFor,
  unitVector,
  type Fields,
} from '#tests/helpers/terminal'

/**
 * The recognition endpoints of the original protocol on the real engine and
 * the photos of tests/fixtures/pairs (see tests/fixtures/ATTRIBUTION.md).
 */
const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

/** How terminals send a picture: a multipart file part, or base64 in a form or JSON body. */
const imageEncodings = ['multipart', 'form', 'json'] as const
type ImageEncoding = (typeof imageEncodings)[number]

function postImage(
  client: ApiClient,
  endpoint: string,
  fields: Fields,
  image: Buffer,
  encoding: ImageEncoding,
  device: Device
) {
  if (encoding === 'multipart') {
    return post(client, endpoint, fields, 'multipart', device, {
      image: { data: image, filename: 'photo' },
    })
  }
  return post(client, endpoint, { ...fields, image: image.toString('base64') }, encoding, device)
}

/** A PNG whose header claims 20000×20000 pixels: 400 megapixels from a few dozen bytes. */
function hugePngHeader() {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(20_000, 0)
  header.writeUInt32BE(20_000, 4)
  header.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const imageEndpoints = [
  ['faceDetect', 'facedetect'],
  ['faceAge', 'faceage'],
  ['faceGender', 'facegender'],
  ['faceFeature', 'facefeature'],
] as const

async function featureOf(client: ApiClient, device: Device, name: string) {
  const response = await postImage(
    client,
    'faceFeature',
    { token: await tokenFor(client, device) },
    await photo(name),
    'multipart',
    device
  )
  if (response.body().code !== 0) throw new Error(`no feature for ${name}: ${response.text()}`)
  return response.body().feature as string
}

test.group('Terminal protocol: faceDetect, faceAge, faceGender, faceFeature', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('faceDetect finds the face with its box and angle 1 ({$self})')
    .with([...imageEncodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await postImage(
        client,
        'faceDetect',
        { token: await tokenFor(client, device) },
        await photo('kit_harington_02.jpg'),
        encoding,
        device
      )
      assert.include(response.body(), { flag: 'facedetect', code: 0, message: 'Success', faces: 1 })
      const [face] = response.body().faceContent
      assert.deepEqual(Object.keys(face), ['id', 'left', 'top', 'right', 'bottom', 'angle'])
      assert.include(face, { id: 0, angle: 1 })
      for (const edge of ['left', 'top', 'right', 'bottom'])
        assert.isTrue(Number.isInteger(face[edge]))
      assert.isTrue(face.left >= 0 && face.right <= 630 && face.left < face.right)
      assert.isTrue(face.top >= 0 && face.bottom <= 374 && face.top < face.bottom)
    })

  test('faceDetect reports a face turned {turn} with angle code {angle}')
    .with([
      { turn: '30°', file: 'rotated/kit_harington_02_rot30.jpg', angle: 5 },
      { turn: '90°', file: 'rotated/kit_harington_02_rot90.jpg', angle: 2 },
      { turn: '180° (upside down)', file: 'rotated/kit_harington_02_rot180.jpg', angle: 4 },
      { turn: '270°', file: 'rotated/kit_harington_02_rot270.jpg', angle: 3 },
    ])
    .run(async ({ client, assert }, { file, angle }) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await postImage(
        client,
        'faceDetect',
        { token: await tokenFor(client, device) },
        await photo(file),
        'multipart',
        device
      )
      assert.include(response.body(), { code: 0, faces: 1 })
      assert.equal(response.body().faceContent[0].angle, angle)
    })

  test('faceDetect numbers every face of a group, largest first', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const response = await postImage(
      client,
      'faceDetect',
      { token: await tokenFor(client, device) },
      await photo('scenes/kit_with_rose.jpg'),
      'json',
      device
    )
    assert.include(response.body(), { code: 0, faces: 2 })
    const [first, second] = response.body().faceContent
    assert.deepEqual([first.id, second.id], [0, 1])
    const area = (face: Record<string, number>) =>
      (face.right - face.left) * (face.bottom - face.top)
    assert.isAtLeast(area(first), area(second))
  })

  test('faceAge and faceGender describe the face ({$self})')
    .with([...imageEncodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const ask = async (endpoint: string, name: string) => {
        const response = await postImage(
          client,
          endpoint,
          { token: await tokenFor(client, device) },
          await photo(name),
          encoding,
          device
        )
        return response.body()
      }
      const age = await ask('faceAge', 'kit_harington_02.jpg')
      assert.include(age, { flag: 'faceage', code: 0 })
      assert.isTrue(Number.isInteger(age.age))
      assert.isTrue(age.age >= 18 && age.age <= 50, `age ${age.age}`)
      assert.include(await ask('faceGender', 'kit_harington_02.jpg'), {
        flag: 'facegender',
        code: 0,
        gender: 0,
      })
      assert.include(await ask('faceGender', 'rose_leslie_02.jpg'), { code: 0, gender: 1 })
    })

  test('a box from faceDetect picks the face it points at', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const scene = await photo('scenes/kit_with_rose.jpg')
    const detected = await postImage(
      client,
      'faceDetect',
      { token: await tokenFor(client, device) },
      scene,
      'multipart',
      device
    )
    const genders = []
    for (const face of detected.body().faceContent) {
      const { left, top, right, bottom } = face
      const response = await postImage(
        client,
        'faceGender',
        { token: await tokenFor(client, device), left, top, right, bottom },
        scene,
        'form',
        device
      )
      assert.equal(response.body().code, 0)
      genders.push(response.body().gender)
    }
    assert.sameMembers(genders, [0, 1])
  })

  test('half a box is 9005, an empty box 2', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const image = await photo('kit_harington_02.jpg')
    const half = await postImage(
      client,
      'faceAge',
      { token: await tokenFor(client, device), left: 10, top: 10 },
      image,
      'multipart',
      device
    )
    assert.include(half.body(), { flag: 'faceage', code: 9005 })
    assert.match(half.body().message, /missing right, bottom/)
    const empty = await postImage(
      client,
      'faceFeature',
      { token: await tokenFor(client, device), left: 50, top: 50, right: 50, bottom: 90 },
      image,
      'json',
      device
    )
    assert.include(empty.body(), { flag: 'facefeature', code: 2 })
    const decimals = await postImage(
      client,
      'faceGender',
      { token: await tokenFor(client, device), left: 1.5, top: 1, right: 90, bottom: 90 },
      image,
      'form',
      device
    )
    assert.include(decimals.body(), { code: 2 })
    assert.match(decimals.body().message, /left must be a whole number of pixels/)
  })

  test('faceFeature gives a versioned blob that names its model ({$self})')
    .with([...imageEncodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await postImage(
        client,
        'faceFeature',
        { token: await tokenFor(client, device) },
        await photo('jim_parsons_sheldon1.png'),
        encoding,
        device
      )
      // The blob: 9 bytes of header, the model's name, 4 bytes per value.
      const featureSize = 9 + defaultEmbedder.length + 4 * featureLength(defaultEmbedder)
      assert.include(response.body(), { flag: 'facefeature', code: 0, featureSize })
      const decoded = decodeFeature(response.body().feature)
      assert.isTrue(decoded.ok)
      if (!decoded.ok) return
      assert.equal(decoded.feature.model, defaultEmbedder)
      assert.lengthOf(decoded.feature.vector, featureLength(defaultEmbedder))
      assert.equal(Buffer.from(response.body().feature, 'base64').length, featureSize)
    })

  test('{endpoint}: a picture without a face is 9006')
    .with(imageEndpoints.map(([endpoint, flag]) => ({ endpoint, flag })))
    .run(async ({ client, assert }, { endpoint, flag }) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await postImage(
        client,
        endpoint,
        { token: await tokenFor(client, device) },
        await photo('scenes/rocket.jpg'),
        'multipart',
        device
      )
      assert.include(response.body(), { flag, code: 9006 })
      assert.match(response.body().message, /^No faces detected: image shows no face$/)
    })

  test('{endpoint}: {case} is {code}')
    .with(
      imageEndpoints.flatMap(([endpoint, flag]) =>
        [
          { case: 'a truncated JPEG', make: 'truncated', code: 9113 },
          { case: 'a PNG whose data is damaged', make: 'damaged', code: 9113 },
          { case: 'text', make: 'text', code: 69640 },
          { case: 'an SVG', make: 'svg', code: 69640 },
          { case: 'a 20000×20000 PNG header', make: 'huge', code: 69642 },
          { case: 'more bytes than allowed', make: 'oversized', code: 69642 },
          { case: 'no image at all', make: 'none', code: 9005 },
        ].map((bad) => ({ endpoint, flag, ...bad }))
      )
    )
    .run(async ({ client, assert }, { endpoint, flag, make, code }) => {
      const device = await DeviceFactory.apply('approved').create()
      const token = await tokenFor(client, device)
      const jpeg = await photo('kit_harington_02.jpg')
      const png = await photo('jim_parsons_sheldon1.png')
      const bytes: Record<string, () => Buffer> = {
        truncated: () => jpeg.subarray(0, 4000),
        damaged: () => Buffer.concat([png.subarray(0, 200), Buffer.alloc(4000, 7)]),
        text: () => Buffer.from('a face, honestly'),
        svg: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><circle r="9"/></svg>'),
        huge: () => hugePngHeader(),
        oversized: () => Buffer.alloc(terminalConfig.images.maxBytes + 1, 0xff),
      }
      const response =
        make === 'none'
          ? await post(client, endpoint, { token }, 'form', device)
          : await postImage(client, endpoint, { token }, bytes[make](), 'multipart', device)
      assert.include(response.body(), { flag, code }, response.text())
    })

  test('{endpoint}: base64 that is not base64 is 2')
    .with(imageEndpoints.map(([endpoint, flag]) => ({ endpoint, flag })))
    .run(async ({ client, assert }, { endpoint, flag }) => {
      const device = await DeviceFactory.apply('approved').create()
      const response = await post(
        client,
        endpoint,
        { token: await tokenFor(client, device), image: '%%% not base64 %%%' },
        'json',
        device
      )
      assert.include(response.body(), { flag, code: 2 })
    })

  test('{endpoint}: a replayed, expired, made-up or missing token is refused')
    .with(imageEndpoints.map(([endpoint, flag]) => ({ endpoint, flag })))
    .run(async ({ client, assert, cleanup }, { endpoint, flag }) => {
      const device = await DeviceFactory.apply('approved').create()
      const image = await photo('jim_parsons_sheldon1.png')
      const token = await tokenFor(client, device)
      const first = await postImage(client, endpoint, { token }, image, 'multipart', device)
      assert.include(first.body(), { flag, code: 0 })
      const replayed = await postImage(client, endpoint, { token }, image, 'multipart', device)
      assert.include(replayed.body(), { flag, code: 7 })
      assert.match(replayed.body().message, /^Expired: .*new one/)

      app.container.swap(
        DeviceTokenStore,
        () => new DeviceTokenStore({ ...terminalConfig.tokens, ttlSeconds: 1 })
      )
      cleanup(() => app.container.restore(DeviceTokenStore))
      const shortLived = await tokenFor(client, device)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const expired = await postImage(
        client,
        endpoint,
        { token: shortLived },
        image,
        'form',
        device
      )
      assert.include(expired.body(), { flag, code: 7 })

      const madeUp = await postImage(
        client,
        endpoint,
        { token: 'b'.repeat(40) },
        image,
        'json',
        device
      )
      assert.include(madeUp.body(), { flag, code: 7 })
      const malformed = await postImage(client, endpoint, { token: 'xyz' }, image, 'json', device)
      assert.include(malformed.body(), { flag, code: 2 })
      const missing = await postImage(client, endpoint, {}, image, 'multipart', device)
      assert.include(missing.body(), { flag, code: 9005 })
      assert.match(missing.body().message, /missing token/)
    })

  test('a device blocked after it got its token is refused with 9001', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const token = await tokenFor(client, device)
    device.status = 'blocked'
    await device.save()
    const response = await postImage(
      client,
      'faceDetect',
      { token },
      await photo('jim_parsons_sheldon1.png'),
      'multipart',
      device
    )
    assert.include(response.body(), { flag: 'facedetect', code: 9001 })
    assert.match(response.body().message, /blocked/)
    assert.equal(await countRows('access_events'), 0)
  })
})

test.group('Terminal protocol: faceRecognize', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('the same person scores 0.6 or more, different people less ({$self})')
    .with(['form', 'multipart', 'json'] as const)
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const names = [
        'barack_obama_01.jpg',
        'barack_obama_02.jpg',
        'joe_biden_01.jpg',
        'joe_biden_02.jpg',
        'kaley_cuoco_penny1.png',
        'kaley_cuoco_penny2.png',
      ]
      const features = new Map<string, string>()
      for (const name of names) features.set(name, await featureOf(client, device, name))

      for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) {
          const same =
            names[i].split('_').slice(0, 2).join() === names[j].split('_').slice(0, 2).join()
          const response = await post(
            client,
            'faceRecognize',
            {
              token: await tokenFor(client, device),
              pending: features.get(names[i]),
              original: features.get(names[j]),
            },
            encoding,
            device
          )
          const { code, score } = response.body()
          assert.include(response.body(), { flag: 'facerecognize', code: 0 })
          assert.equal(code, 0)
          assert.isTrue(score >= 0 && score <= 1)
          const pair = `${names[i]} / ${names[j]}: ${score}`
          if (same) assert.isAtLeast(score, 0.6, pair)
          else assert.isBelow(score, 0.6, pair)
        }
      }
    })
    .timeout(60_000)

  test('a feature compared with itself scores 1; a "+" sent as a space still reads', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const feature = await featureOf(client, device, 'rose_leslie_01.jpg')
    assert.include(feature, '+')
    const body = `token=${await tokenFor(client, device)}&pending=${feature}&original=${encodeURIComponent(feature)}`
    const response = await signedBytesPost(
      client,
      'faceRecognize',
      body,
      'application/x-www-form-urlencoded',
      device
    )
    assert.include(response.body(), { code: 0, score: 1 })
  })

  test('features of different models are 73733: {case}')
    .with([
      {
        case: 'another model of the same size',
        other: () => encodeFeature({ model: 'other-model', vector: unitVector(3) }),
      },
      {
        case: 'faceres (1024 values)',
        other: () => encodeFeature({ model: 'faceres', vector: unitVector(3, 1024) }),
      },
    ])
    .run(async ({ client, assert }, { other }) => {
      const device = await DeviceFactory.apply('approved').create()
      const feature = await featureOf(client, device, 'kit_harington_01.jpg')
      const response = await post(
        client,
        'faceRecognize',
        { token: await tokenFor(client, device), pending: feature, original: other() },
        'json',
        device
      )
      assert.include(response.body(), { flag: 'facerecognize', code: 73733 })
      assert.notProperty(response.body(), 'score')
      assert.match(response.body().message, /^Feature level mismatched: /)
    })

  test('a model this server has no calibration for is 73733', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const blob = encodeFeature({ model: 'other-model', vector: unitVector(4) })
    const response = await post(
      client,
      'faceRecognize',
      { token: await tokenFor(client, device), pending: blob, original: blob },
      'form',
      device
    )
    assert.include(response.body(), { code: 73733 })
    assert.match(response.body().message, /no calibration for model other-model/)
  })

  test('a malformed feature is 2 and named: {case}')
    .with([
      { case: 'not base64', value: () => '***' },
      { case: 'base64 of something else', value: () => 'bm90IGEgZmVhdHVyZSBibG9i' },
      {
        case: 'a truncated blob',
        value: () =>
          Buffer.from(
            encodeFeature({ model: 'faceapi-recognition', vector: unitVector(5) }),
            'base64'
          )
            .subarray(0, 300)
            .toString('base64'),
      },
      {
        case: 'a vector that is not unit-length',
        value: () =>
          encodeFeature({ model: 'faceapi-recognition', vector: new Float32Array(128).fill(1) }),
      },
    ])
    .run(async ({ client, assert }, { value }) => {
      const device = await DeviceFactory.apply('approved').create()
      const good = encodeFeature({ model: 'faceapi-recognition', vector: unitVector(6) })
      const response = await post(
        client,
        'faceRecognize',
        { token: await tokenFor(client, device), pending: good, original: value() },
        'json',
        device
      )
      assert.include(response.body(), { flag: 'facerecognize', code: 2 })
      assert.match(response.body().message, /^Invalid parameter: original: /)
    })

  test('a replayed token is 7; a missing or empty feature 9005', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const blob = encodeFeature({ model: 'faceapi-recognition', vector: unitVector(7) })
    const token = await tokenFor(client, device)
    const fields = { token, pending: blob, original: blob }
    const first = await post(client, 'faceRecognize', fields, 'form', device)
    assert.include(first.body(), { code: 0 })
    const replayed = await post(client, 'faceRecognize', fields, 'form', device)
    assert.include(replayed.body(), { flag: 'facerecognize', code: 7 })
    const missing = await post(
      client,
      'faceRecognize',
      { token: await tokenFor(client, device), pending: blob },
      'form',
      device
    )
    assert.include(missing.body(), { code: 9005 })
    assert.match(missing.body().message, /missing original/)
    const empty = await post(
      client,
      'faceRecognize',
      { token: await tokenFor(client, device), pending: '', original: blob },
      'json',
      device
    )
    assert.include(empty.body(), { code: 9005 })
    assert.match(empty.body().message, /missing pending/)
  })
})
