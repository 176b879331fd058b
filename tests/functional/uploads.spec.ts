import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { dirname, join, relative } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import AccessEvent from '#models/access_event'
import Face from '#models/face'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { uploadsDir } from '#services/uploaded_parts'
import {
  countRows,
  notProven,
  post,
  rawPost,
  resetTerminalState,
  serverUrl,
  signedPost,
  tokenFor,
} from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures', name))

/** Every file under `dir`, however deep; none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Waits for the request's end to have removed its parts: that runs as its response closes. */
async function uploadsEmptied() {
  for (let waited = 0; waited < 2000; waited += 20) {
    const left = await filesUnder(uploadsDir())
    if (left.length === 0) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

const boundary = 'uploads-spec-boundary'

/** A multipart body of `files` small file parts after the given fields. */
function manyParts(files: number, fields: Record<string, string> = {}) {
  const chunks = Object.entries(fields).map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  )
  for (let index = 0; index < files; index++) {
    chunks.push(
      `--${boundary}\r\nContent-Disposition: form-data; name="image${index}"; filename="p${index}.jpg"\r\n` +
        `Content-Type: image/jpeg\r\n\r\n${'x'.repeat(512)}\r\n`
    )
  }
  chunks.push(`--${boundary}--\r\n`)
  return Buffer.from(chunks.join(''))
}

const multipartType = `multipart/form-data; boundary=${boundary}`

function mode(path: string) {
  return stat(path).then((info) => info.mode & 0o777)
}

/**
 * Each test gets a storage folder and a system temp folder (TMPDIR, which
 * the body parser would write parts to by default) of its own, so that
 * counting their files sees this test's requests alone.
 */
test.group('Uploads: bounded disk, owner-only files', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    const root = app.makePath('tmp', `uploads_spec_${process.pid}`)
    const storage = terminalConfig.storageDir
    const systemTmp = process.env.TMPDIR
    terminalConfig.storageDir = join(root, 'storage')
    process.env.TMPDIR = join(root, 'system')
    await mkdir(process.env.TMPDIR, { recursive: true })
    return async () => {
      terminalConfig.storageDir = storage
      if (systemTmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = systemTmp
      await rm(root, { recursive: true, force: true })
    }
  })

  test('a 1,000-part request is refused, and leaves no file', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').apply('legacy').create()
    const terminal = await rawPost(
      client,
      '/faces/api/faceFeature',
      manyParts(1000, { token: await tokenFor(client, device) }),
      { 'content-type': multipartType }
    )
    assert.include(terminal.body(), { flag: 'facefeature', code: 69642 })

    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').create()
    const page = client
      .post(`/admin/people/${person.id}/faces`)
      .loginAs(operator)
      .withCsrfToken()
      .header('content-type', multipartType)
    page.request.serialize((data: unknown) => data as string).send(manyParts(1000))
    const answer = await page
    answer.assertStatus(413)

    assert.isTrue(await uploadsEmptied())
    assert.deepEqual(await filesUnder(process.env.TMPDIR!), [])
    assert.equal(await countRows('faces'), 0)
  })

  test('multipart from callers nobody knows is never written', async ({ client, assert }) => {
    const picture = await fixture('faces/sheldon.png')
    const files = { image: { data: picture, filename: 'sheldon.png' } }
    const person = await PersonFactory.apply('consented').create()
    const signedElsewhere = await DeviceFactory.apply('approved').create()
    const pinnedElsewhere = await DeviceFactory.apply('approved')
      .apply('legacy')
      .merge({ pinnedAddress: '10.0.0.9' })
      .create()

    const login = await client
      .post('/login')
      .withCsrfToken()
      .fields({ email: 'someone@example.com', password: 'secret' })
      .file('photo', picture, { filename: 'sheldon.png' })
      .redirects(0)
    assert.notEqual(login.status(), 200)

    const page = await client
      .post(`/admin/people/${person.id}/faces`)
      .withCsrfToken()
      .file('photo', picture, { filename: 'sheldon.png' })
      .redirects(0)
    assert.oneOf(page.status(), [302, 403])

    const unsigned = await post(
      client,
      'faceFeature',
      { token: 'a'.repeat(40) },
      'multipart',
      undefined,
      files
    )
    assert.include(unsigned.body(), { code: 7 })
    const legacyElsewhere = await post(
      client,
      'faceFeature',
      { token: 'a'.repeat(40) },
      'multipart',
      pinnedElsewhere,
      files
    )
    assert.include(legacyElsewhere.body(), { code: 7 })
    const forged = await signedPost(
      client,
      'faceFeature',
      { token: 'a'.repeat(40) },
      'multipart',
      signedElsewhere,
      files,
      (headers) => ({ ...headers, 'x-device-serial': 'NOBODY-KNOWS-ME' })
    )
    assert.include(forged.body(), { code: 9001, message: notProven })

    assert.deepEqual(await filesUnder(terminalConfig.storageDir), [], 'nothing was written')
    assert.deepEqual(await filesUnder(process.env.TMPDIR!), [])
  })

  test('an accepted and a refused upload leave no part behind; photos are owner-only', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented').create()
    const upload = (bytes: Buffer, filename: string) =>
      client
        .post(`/admin/people/${person.id}/faces`)
        .loginAs(operator)
        .withCsrfToken()
        .file('photo', bytes, { filename })
        .redirects(0)

    const refused = await upload(Buffer.from('no photo at all'), 'notes.jpg')
    refused.assertStatus(422)
    assert.isTrue(await uploadsEmptied())

    const accepted = await upload(await fixture('pairs/jim_parsons_sheldon1.png'), 'sheldon.png')
    accepted.assertStatus(302)
    assert.isTrue(await uploadsEmptied())
    assert.equal(await mode(uploadsDir()), 0o700, 'the part was written, to a private folder')
    assert.deepEqual(await filesUnder(process.env.TMPDIR!), [])

    const face = await Face.findByOrFail('person_id', person.id)
    const photo = app.makePath(face.imagePath!)
    assert.equal(await mode(photo), 0o600)
    for (
      let folder = dirname(photo);
      relative(terminalConfig.storageDir, folder) !== '..';
      folder = dirname(folder)
    ) {
      assert.equal(await mode(folder), 0o700, relative(app.makePath(), folder))
    }
  })

  test('a terminal picture leaves no part behind; its snapshot is owner-only', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('legacy').create()
    const picture = await fixture('faces/sheldon.png')
    const identify = await post(
      client,
      'faceIdentify',
      { token: await tokenFor(client, device) },
      'multipart',
      device,
      { image: { data: picture, filename: 'door.png' } }
    )
    assert.include(identify.body(), { flag: 'faceidentify', code: 0 })
    assert.isTrue(await uploadsEmptied())
    assert.deepEqual(await filesUnder(process.env.TMPDIR!), [])

    const event = await AccessEvent.findOrFail(identify.body().eventId)
    const snapshot = app.makePath(event.snapshotPath!)
    assert.equal(await mode(snapshot), 0o600)
    assert.equal(await mode(dirname(snapshot)), 0o700)
    assert.equal(await mode(terminalConfig.storageDir), 0o700)
  })

  test('a request cut off mid-upload leaves no part behind', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').apply('legacy').create()
    const token = await tokenFor(client, device)
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n${token}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n` +
        `Content-Type: image/jpeg\r\n\r\n`
    )
    const request = httpRequest(`${serverUrl}/faces/api/faceFeature`, {
      method: 'POST',
      headers: { 'content-type': multipartType, 'content-length': String(5_000_000) },
    })
    request.on('error', () => {})
    request.write(head)
    request.write(Buffer.alloc(256 * 1024, 0xff))

    let written = false
    for (let waited = 0; waited < 2000 && !written; waited += 20) {
      const parts = await filesUnder(uploadsDir())
      written = parts.length > 0
      if (!written) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.isTrue(written, 'the part is being written')
    request.destroy()
    assert.isTrue(await uploadsEmptied())
  })
})
