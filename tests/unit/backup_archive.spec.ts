import { randomBytes } from 'node:crypto'
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { BackupReader, BackupWriter } from '#services/backup/backup_archive'

const key = 'sixteen-plus characters of key'

async function readAll(path: string, passphrase = key) {
  const reader = await BackupReader.open(path, passphrase)
  const entries: Record<string, Buffer> = {}
  try {
    for await (const entry of reader.entries()) {
      const pieces: Buffer[] = []
      for await (const piece of entry.content) pieces.push(piece)
      entries[entry.name] = Buffer.concat(pieces)
    }
  } finally {
    await reader.close()
  }
  return entries
}

test.group('Backup archive', (group) => {
  let folder: string
  let archive: string
  const large = randomBytes(2.5 * 1024 * 1024)

  group.each.setup(async () => {
    folder = await mkdtemp(app.tmpPath('archive-'))
    archive = join(folder, 'site.fabackup')
    const writer = await BackupWriter.create(archive, key)
    await writer.add('small', Buffer.from('hello'))
    await writer.add('empty', Buffer.alloc(0))
    async function* streamed() {
      for (let offset = 0; offset < large.length; offset += 300_000) {
        yield large.subarray(offset, offset + 300_000)
      }
    }
    await writer.add('large', streamed(), large.length)
    await writer.finish()
    return () => rm(folder, { recursive: true, force: true })
  })

  test('entries come back as they went in, across chunks', async ({ assert }) => {
    const entries = await readAll(archive)
    assert.deepEqual(Object.keys(entries), ['small', 'empty', 'large'])
    assert.equal(entries.small.toString(), 'hello')
    assert.equal(entries.empty.length, 0)
    assert.isTrue(entries.large.equals(large))
  })

  test('a wrong key is told apart from damage', async ({ assert }) => {
    await assert.rejects(
      () => readAll(archive, 'another key of enough length'),
      /^The key does not open/
    )
  })

  test('{case} is refused as damaged')
    .with([
      {
        case: 'a flipped byte',
        change: (bytes: Buffer) => ((bytes[bytes.length - 100] ^= 1), bytes),
      },
      { case: 'a cut-off end', change: (bytes: Buffer) => bytes.subarray(0, bytes.length - 1) },
      {
        case: 'a dropped final chunk',
        change: (bytes: Buffer) => bytes.subarray(0, bytes.length - 120),
      },
      {
        case: 'an edited header',
        change: (bytes: Buffer) =>
          Buffer.from(
            bytes.toString('latin1').replace('"chunk":1048576', '"chunk":1048575'),
            'latin1'
          ),
      },
    ])
    .run(async ({ assert }, { change }) => {
      await writeFile(archive, change(await readFile(archive)))
      await assert.rejects(() => readAll(archive), /^The backup is damaged|^The key does not open/)
    })

  test('data after the end is refused', async ({ assert }) => {
    await appendFile(archive, randomBytes(40))
    await assert.rejects(() => readAll(archive), /^The backup is damaged/)
  })

  test('another file is not taken for a backup', async ({ assert }) => {
    await writeFile(archive, 'SQLite format 3\0 and more')
    await assert.rejects(() => readAll(archive), /is not a FaceAccess backup$/)
  })
})
