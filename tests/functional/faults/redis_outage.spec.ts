import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import redis from '@adonisjs/redis/services/main'
import env from '#start/env'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { GalleryIndex } from '#faces/gallery_index'
import { RecognitionEngine } from '#faces/recognition_engine'
import { storedFeature } from '#faces/face_data'
import { defaultEmbedder, featureLength } from '#plugins/face_engine/embedder'
import {
  enrolPhotoOf,
  grant,
  post,
  resetTerminalState,
  serverUrl,
  tokenFor,
} from '#tests/helpers/terminal'
import { SuiteRedis, until } from '#tests/helpers/redis_server'

/**
 * Redis is a dependency that may blink. These tests stop the very
 * redis-server the app uses (its data saved) and start it again, with the
 * app running in this process all along. `npm test` gives the tests a
 * redis-server of their own (scripts/test.sh), which they may stop.
 */
const redisServer = await SuiteRedis.find()

const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

async function timed<T>(call: () => Promise<T>) {
  const started = performance.now()
  const result = await call()
  return { result, ms: Math.round(performance.now() - started) }
}

/** Whether /health finds the app's Redis connection up. */
async function redisAnswers() {
  const response = await fetch(`${serverUrl}/health`, {
    headers: { authorization: `Bearer ${env.get('HEALTH_TOKEN')}` },
  })
  const report = (await response.json()) as { checks: { name: string; status: string }[] }
  return report.checks.find((check) => check.name === 'Redis health check (main)')?.status === 'ok'
}

/** A sign-in through the form, for the event stream the API client cannot read. */
async function signIn(email: string) {
  const page = await fetch(`${serverUrl}/login`)
  const cookies = page.headers.getSetCookie()
  const html = await page.text()
  const csrf = html.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)![1]
  const response = await fetch(`${serverUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cookie': cookies.map((cookie) => cookie.split(';')[0]).join('; '),
    },
    body: new URLSearchParams({ _csrf: csrf, email, password: 'correct horse battery staple' }),
  })
  const jar = new Map<string, string>()
  for (const cookie of [...cookies, ...response.headers.getSetCookie()]) {
    const pair = cookie.split(';')[0]
    jar.set(pair.slice(0, pair.indexOf('=')), pair)
  }
  return [...jar.values()].join('; ')
}

/**
 * The events page's stream, read as it arrives: `text` so far, and
 * `ended` once the server ended it; `close` is the browser leaving.
 */
async function openStream(cookie: string) {
  const controller = new AbortController()
  const response = await fetch(`${serverUrl}/admin/events/stream`, {
    headers: { cookie },
    signal: controller.signal,
  })
  const stream = {
    status: response.status,
    text: '',
    ended: false,
    close: () => controller.abort(),
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  void (async () => {
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        stream.text += chunk.value
      }
      stream.ended = true
    } catch {
      // Aborted by `close`.
    }
  })()
  return stream
}

function faceIdentify(client: ApiClient, device: Device, token: string, picture: Buffer) {
  return post(client, 'faceIdentify', { token }, 'multipart', device, {
    image: { data: picture, filename: 'face.jpg' },
  })
}

test.group('Faults: Redis stops and starts again', (group) => {
  const unhandled: unknown[] = []
  const record = (reason: unknown) => unhandled.push(reason)
  const configuredStore = limiter.config.default

  group.setup(() => {
    process.on('unhandledRejection', record)
    // Sign-in and the terminals' rates count in Redis, as at a site.
    limiter.config.default = 'redis'
    return async () => {
      limiter.config.default = configuredStore
      process.off('unhandledRejection', record)
      // The tests that follow find every connection of the app back, not reconnecting.
      await until(
        async () =>
          Object.values(redis.activeConnections).every(
            (connection) => connection.status === 'ready'
          ),
        'every Redis connection of the app is ready again',
        15_000
      )
    }
  })
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => {
    unhandled.length = 0
  })

  /** Stops Redis until the test ends, when it is started again and the app has reconnected. */
  async function stopRedis(cleanup: (handler: () => Promise<void>) => void) {
    const server = redisServer
    cleanup(async () => {
      if (!server.running) await server.start()
      await until(redisAnswers, 'the app reaches Redis again', 10_000)
    })
    await server.stop()
  }

  test('while Redis is down, terminal calls are refused at once (9007, HTTP 503), pages answer, and nothing is left unhandled', async ({
    client,
    assert,
    cleanup,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await PersonFactory.apply('consented').create()
    await grant([person], [device])
    const operator = await UserFactory.create()
    const picture = await photo('kit_harington_01.jpg')
    const token = await tokenFor(client, device)
    const cookie = await signIn(operator.email)
    const before = await openStream(cookie)
    await until(async () => before.text.includes(': connected'), 'the stream is subscribed')

    await stopRedis(cleanup)
    await until(async () => before.ended, 'the open stream ends', 3000)
    before.close()

    const named = { deviceName: device.name, deviceSN: device.serialNumber }
    const calls = {
      token: () =>
        post(client, 'token', { deviceName: device.name, sn: device.serialNumber }, 'form', device),
      faceIdentify: () => faceIdentify(client, device, token, picture),
      clinetFeedback: () =>
        post(
          client,
          'clinetFeedback',
          { ...named, faceName: person.displayName, username: person.username },
          'form',
          device
        ),
      regFace: () =>
        post(
          client,
          'regFace',
          {
            ...named,
            username: person.username,
            faceName: person.displayName,
            picBase64: picture.toString('base64'),
          },
          'form',
          device
        ),
      getDbs: () => post(client, 'getDbs', { ...named, token }, 'form', device),
    }
    for (const [endpoint, call] of Object.entries(calls)) {
      const { result: response, ms } = await timed(call)
      assert.isBelow(ms, 2000, `${endpoint} answered in ${ms} ms`)
      assert.equal(response.status(), 503, endpoint)
      assert.equal(response.header('retry-after'), '5', endpoint)
      assert.include(response.body(), { code: 9007 }, endpoint)
      assert.match(response.body().message, /Redis is unavailable; retry/, endpoint)
    }
    assert.lengthOf(await AccessEvent.query().where('deviceId', device.id), 0)

    const { result: signedIn, ms: signInMs } = await timed(() =>
      client
        .post('/login')
        .withCsrfToken()
        .form({ email: operator.email, password: 'correct horse battery staple' })
        .redirects(0)
    )
    assert.isBelow(signInMs, 2000)
    signedIn.assertStatus(302)
    signedIn.assertHeader('location', '/admin')

    const { result: health, ms: healthMs } = await timed(() =>
      client
        .get('/health')
        .header('authorization', `Bearer ${env.get('HEALTH_TOKEN')}`)
        .accept('json')
    )
    assert.isBelow(healthMs, 2000)
    health.assertStatus(503)
    const checks = health.body().checks as { name: string; status: string }[]
    const redisCheck = checks.find((check) => check.name === 'Redis health check (main)')
    assert.equal(redisCheck?.status, 'error')

    for (const page of ['/admin', '/admin/events', `/admin/devices/${device.id}/edit`]) {
      const response = await client.get(page).loginAs(operator)
      response.assertStatus(200)
    }
    const devices = await client.get('/admin/devices').loginAs(operator)
    devices.assertStatus(200)
    assert.include(devices.text(), 'data-test="refusals-unavailable"')

    const during = await openStream(cookie)
    await until(async () => during.ended, 'the stream opened during the outage ends', 2000)
    assert.equal(during.status, 200)
    assert.include(during.text, 'retry: 5000')
    assert.notInclude(during.text, ': connected')
    const left = await openStream(cookie)
    left.close()

    // Nothing refused runs late once Redis is back: the feedback stays unrecorded.
    await redisServer.start()
    await until(redisAnswers, 'the app reaches Redis again', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.lengthOf(await AccessEvent.query().where('deviceId', device.id), 0)
    assert.deepEqual(unhandled, [])
  }).timeout(60_000)

  test('when Redis is back the same calls succeed without a restart, and every gallery has the face enrolled meanwhile', async ({
    client,
    assert,
    cleanup,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await PersonFactory.apply('consented').create()
    await grant([person], [device])
    const operator = await UserFactory.create()

    const recognition = await app.container.make(RecognitionEngine)
    const loaded = await recognition.comparator()
    if (!loaded.ok) throw new Error('no calibrations')
    // Another server process's gallery, loaded before the outage.
    const other = new GalleryIndex()
    cleanup(() => other.close())
    const nobody = {
      model: defaultEmbedder,
      vector: new Float32Array(featureLength(defaultEmbedder)).fill(
        featureLength(defaultEmbedder) ** -0.5
      ),
    }
    const before = await other.search(nobody, loaded.comparator, 1)
    assert.isTrue(before.ok)

    await stopRedis(cleanup)
    const face = await enrolPhotoOf(person, await photo('kit_harington_01.jpg'))
    assert.equal(face.personId, person.id)
    const bestInOther = async () => {
      const search = await other.search(storedFeature(face), loaded.comparator, 1)
      return search.ok ? (search.matches[0]?.personId ?? null) : null
    }
    await redisServer.start()
    await until(redisAnswers, 'the app reaches Redis again', 10_000)

    const named = { deviceName: device.name, deviceSN: device.serialNumber }
    const identified = await faceIdentify(
      client,
      device,
      await tokenFor(client, device),
      await photo('kit_harington_02.jpg')
    )
    assert.include(identified.body(), { code: 0, decision: 'granted' }, identified.text())
    assert.equal(identified.body().person.username, person.username)

    const feedback = await post(
      client,
      'clinetFeedback',
      { ...named, faceName: person.displayName, username: person.username },
      'form',
      device
    )
    assert.include(feedback.body(), { code: 0, decision: 'granted' }, feedback.text())

    const another = await photo('kit_harington_03.jpg')
    const enrolled = await post(
      client,
      'regFace',
      {
        ...named,
        username: person.username,
        faceName: person.displayName,
        picBase64: another.toString('base64'),
      },
      'form',
      device
    )
    assert.include(enrolled.body(), { code: 0, created: true }, enrolled.text())

    const signedIn = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: operator.email, password: 'correct horse battery staple' })
      .redirects(0)
    signedIn.assertHeader('location', '/admin')
    const stream = await openStream(await signIn(operator.email))
    await until(async () => stream.text.includes(': connected'), 'the stream subscribes')
    stream.close()

    await until(async () => (await bestInOther()) === person.id, 'the other gallery has the face')
    assert.deepEqual(unhandled, [])
  }).timeout(60_000)
})
