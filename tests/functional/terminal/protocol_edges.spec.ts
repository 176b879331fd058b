import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import { DeviceFactory } from '#database/factories/device_factory'
import { encodeFeature } from '#faces/feature_blob'
import { DeviceTokenService } from '#services/terminal/device_token_service'
import {
  countRows,
  post,
  resetTerminalState,
  serverUrl,
  tokenFor,
  unitVector,
  withoutEngine,
} from '#tests/helpers/terminal'

/**
 * Raw requests, shaped as no well-behaved client would send them.
 */
async function raw(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const response = await fetch(`${serverUrl}${path}`, init)
  const text = await response.text()
  return { response, text, body: JSON.parse(text) as Record<string, unknown> }
}

test.group('Terminal protocol: answers for everything', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('an unknown path under /faces/api is a JSON 404 with code 12 ({$self})')
    .with(['GET /faces/api/nothing', 'POST /faces/api/nothing/deeper', 'GET /faces/api'])
    .run(async ({ assert }, request) => {
      const [method, path] = request.split(' ')
      const { response, body } = await raw(path, { method, headers: { accept: 'text/html' } })
      assert.equal(response.status, 404)
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8')
      assert.include(body, { flag: 'unknown', code: 12 })
    })

  test('a known endpoint called with GET is 9002, 405, with Allow: POST', async ({ assert }) => {
    const { response, body } = await raw('/faces/api/getDbs')
    assert.equal(response.status, 405)
    assert.equal(response.headers.get('allow'), 'POST')
    assert.include(body, { flag: 'getDbs', code: 9002 })
  })

  test('the recognition endpoints answer 3 while no engine runs', async ({
    client,
    assert,
    cleanup,
  }) => {
    withoutEngine(cleanup)
    const device = await DeviceFactory.apply('approved').create()
    const image = await readFile(app.makePath('tests/fixtures/faces/sheldon.png'))
    const feature = encodeFeature({ model: 'faceapi-recognition', vector: unitVector(1) })
    for (const [endpoint, flag] of [
      ['faceDetect', 'facedetect'],
      ['faceAge', 'faceage'],
      ['faceGender', 'facegender'],
      ['faceFeature', 'facefeature'],
      ['faceRecognize', 'facerecognize'],
      ['faceIdentify', 'faceidentify'],
    ]) {
      const response = await post(
        client,
        endpoint,
        { token: await tokenFor(client, device), pending: feature, original: feature },
        'multipart',
        device,
        { image: { data: image, filename: 'sheldon.png', contentType: 'image/png' } }
      )
      assert.equal(response.status(), 200)
      assert.include(response.body(), { flag, code: 3 }, endpoint)
      assert.match(response.body().message, /no recognition engine is running/)
    }
    assert.equal(await countRows('access_events'), 0)
  })

  test('pictures called with POST is 9002, 405, with Allow: GET', async ({ assert }) => {
    const { response, body } = await raw('/faces/api/pictures/1', { method: 'POST' })
    assert.equal(response.status, 405)
    assert.equal(response.headers.get('allow'), 'GET')
    assert.include(body, { flag: 'picture', code: 9002 })
  })

  test('bodies the parser refuses are protocol answers: {case}')
    .with([
      { case: 'invalid JSON', type: 'application/json', body: '{"deviceName": ', code: 2 },
      { case: 'JSON that is not an object', type: 'application/json', body: '"text"', code: 2 },
      { case: 'a JSON array', type: 'application/json', body: '[1, 2]', code: 2 },
      {
        case: 'multipart cut short',
        type: 'multipart/form-data; boundary=xyz',
        body: '--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n\xff\xd8',
        code: 9113,
      },
      {
        case: 'a form larger than the server accepts',
        type: 'application/x-www-form-urlencoded',
        body: `deviceName=${'x'.repeat(17 * 1024 * 1024)}`,
        code: 69642,
      },
    ])
    .run(async ({ assert }, { type, body: payload, code }) => {
      const { body, text } = await raw('/faces/api/token', {
        method: 'POST',
        headers: { 'content-type': type, 'accept': 'text/html' },
        body: payload,
      })
      assert.include(body, { flag: 'token', code })
      assert.notInclude(text, '<html')
      assert.notMatch(text, /\bat .*\.(ts|js):\d+/)
    })

  test('an unexpected failure is 9007 with the detail in the log, not the answer', async ({
    assert,
    cleanup,
  }) => {
    class BrokenTokens {
      async request(): Promise<never> {
        throw new Error('database on fire at /secret/path.ts:12')
      }
    }
    app.container.swap(DeviceTokenService, () => new BrokenTokens() as never)
    cleanup(() => app.container.restore(DeviceTokenService))
    const device = await DeviceFactory.apply('approved').create()
    const { response, body, text } = await raw('/faces/api/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ deviceName: device.name, sn: device.serialNumber }).toString(),
    })
    assert.equal(response.status, 500)
    assert.include(body, { flag: 'token', code: 9007 })
    assert.match(String(body.message), /request [\w-]+\)$/)
    assert.notInclude(text, 'fire')
    assert.notInclude(text, 'secret')
  })
})
