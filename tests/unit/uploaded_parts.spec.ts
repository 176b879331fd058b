import { test } from '@japa/runner'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import terminalConfig from '#config/terminal'
import { UploadedParts, uploadsDir } from '#services/uploaded_parts'

/**
 * Parts of a request that ends while they are still arriving: a refused
 * request (too many parts, too large) or a client gone mid-upload. The
 * part streams here are what the multipart reader hands over, one that
 * never finishes unless told.
 */
test.group('Uploaded parts of a request that ends early', (group) => {
  let storage: string
  group.each.setup(async () => {
    const previous = terminalConfig.storageDir
    terminalConfig.storageDir = await mkdtemp(join(tmpdir(), 'uploaded-parts-'))
    storage = terminalConfig.storageDir
    return async () => {
      terminalConfig.storageDir = previous
      await rm(storage, { recursive: true, force: true })
    }
  })

  const left = () => readdir(uploadsDir()).catch(() => [] as string[])
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

  test('a part still arriving when the request ends is cut off and its file removed', async ({
    assert,
  }) => {
    const parts = new UploadedParts()
    const part = new PassThrough()
    const written = parts.write(part, () => {}).catch((error: Error) => error)
    part.write(Buffer.alloc(4096, 1))
    await settle()
    assert.lengthOf(await left(), 1, 'the part is being written')

    await parts.discard()
    const outcome = await written
    assert.instanceOf(outcome, Error)
    await settle()
    assert.deepEqual(await left(), [])
  })

  test('a part that starts as the request ends never creates a file', async ({ assert }) => {
    for (let round = 0; round < 50; round++) {
      const parts = new UploadedParts()
      const part = new PassThrough()
      const written = parts.write(part, () => {}).catch((error: Error) => error)
      // The request ends while the part's folder is being made or its file opened.
      const discarded = parts.discard()
      part.end(Buffer.alloc(1024, 2))
      await Promise.all([written, discarded])
    }
    await settle()
    assert.deepEqual(await left(), [])
  })

  test('a request that ends normally keeps each part until discarded', async ({ assert }) => {
    const parts = new UploadedParts()
    const part = new PassThrough()
    const written = parts.write(part, () => {})
    part.end(Buffer.from('picture'))
    const { tmpPath } = await written
    assert.equal(await readFile(tmpPath!, 'utf8'), 'picture')

    await parts.discard()
    assert.deepEqual(await left(), [])
  })
})
