import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DateTime } from 'luxon'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { MigrationRunner } from '@adonisjs/lucid/migration'
import AccessEvent from '#models/access_event'
import Face from '#models/face'
import Person from '#models/person'
import { embeddingBytes } from '#faces/face_data'
import { unitVector } from '#tests/helpers/terminal'

/**
 * A site of its own, beside the test database: its SQLite file and
 * STORAGE_DIR under tmp/, filled through a second connection of this
 * process, backed up and restored by "node ace" in child processes that
 * see only this site, as an operator's commands would.
 */
const site = {
  dbFile: 'backup_site.sqlite3',
  storage: 'tmp/backup-site/storage',
  archive: app.tmpPath('backup-site/site.fabackup'),
  key: 'a backup key kept in the safe, not on the server',
}
const connection = 'backup_site'
const execFileAsync = promisify(execFile)

async function ace(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['ace.js', ...args], {
      cwd: app.makePath(),
      env: {
        ...process.env,
        DB_CONNECTION: 'sqlite',
        DB_FILE: site.dbFile,
        STORAGE_DIR: site.storage,
        BACKUP_KEY: site.key,
        ...env,
      },
    })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, output: failed.stdout + failed.stderr }
  }
}

async function openSite() {
  db.manager.add(connection, {
    client: 'better-sqlite3',
    connection: { filename: app.tmpPath(site.dbFile) },
    useNullAsDefault: true,
    migrations: { naturalSort: true, paths: ['database/migrations'] },
  })
  const migrator = new MigrationRunner(db, app, {
    direction: 'up',
    connectionName: connection,
    dryRun: false,
  })
  await migrator.run()
  if (migrator.error) throw migrator.error
}

async function closeSite() {
  await db.manager.close(connection, true)
}

async function wipeSite() {
  await closeSite()
  for (const suffix of ['', '-wal', '-shm'])
    await rm(app.tmpPath(site.dbFile + suffix), { force: true })
  await rm(app.makePath(site.storage), { recursive: true, force: true })
}

/** A file in the site's STORAGE_DIR, by the path the database keeps (relative to the app root). */
async function storeFile(path: string, bytes: Buffer) {
  await mkdir(app.makePath(join(path, '..')), { recursive: true })
  await writeFile(app.makePath(path), bytes)
  return path
}

/** What the site holds: people, faces with their photos' bytes, events with their snapshots'. */
async function siteContents() {
  const options = { connection }
  const people = await Person.query(options).orderBy('id')
  const faces = await Face.query(options).orderBy('id')
  const events = await AccessEvent.query(options).orderBy('id')
  return {
    people: people.map((person) => [person.id, person.username, person.displayName, person.status]),
    faces: await Promise.all(
      faces.map(async (face) => [
        face.id,
        face.personId,
        Buffer.from(face.embedding).toString('base64'),
        face.imagePath,
        await readFile(app.makePath(face.imagePath!), 'base64'),
      ])
    ),
    events: await Promise.all(
      events.map(async (event) => [
        event.id,
        event.decision,
        event.personId,
        event.snapshotPath,
        await readFile(app.makePath(event.snapshotPath!), 'base64'),
      ])
    ),
  }
}

test.group('Backups', (group) => {
  group.each.setup(async () => {
    await wipeSite().catch(() => {})
    await rm(app.tmpPath('backup-site'), { recursive: true, force: true })
    return async () => {
      await wipeSite().catch(() => {})
      await rm(app.tmpPath('backup-site'), { recursive: true, force: true })
    }
  })
  group.each.timeout(90_000)

  test('backup, wipe, restore: the same people, faces with their photos, and events', async ({
    assert,
  }) => {
    await openSite()
    const options = { connection }
    const ada = await Person.create(
      { username: 'ada', displayName: 'Ada L.', status: 'active' },
      options
    )
    const bo = await Person.create(
      { username: 'bo', displayName: 'Bo K.', status: 'suspended' },
      options
    )
    for (const [index, person] of [ada, ada, bo].entries()) {
      const photo = randomBytes(2048)
      await Face.create(
        {
          personId: person.id,
          embedding: embeddingBytes(unitVector(index + 1)),
          engine: 'face-engine',
          modelId: 'faceplugin-arcface',
          dimension: 128,
          source: 'photo',
          imagePath: await storeFile(`${site.storage}/faces/${index}0/${index}.jpg`, photo),
        },
        options
      )
    }
    for (const [index, person] of [ada, null].entries()) {
      await AccessEvent.create(
        {
          decision: person ? 'granted' : 'denied',
          reason: person ? 'granted' : 'unknown_face',
          method: 'face',
          personId: person?.id ?? null,
          occurredAt: DateTime.now().startOf('second'),
          receivedAt: DateTime.now().startOf('second'),
          snapshotPath: await storeFile(
            `${site.storage}/snapshots/2025/0${index}.jpg`,
            randomBytes(512)
          ),
        },
        options
      )
    }
    // Work in flight is not part of the site.
    await storeFile(`${site.storage}/uploads/part-1`, randomBytes(10))
    const before = await siteContents()

    const created = await ace(['backup:create', `--output=${site.archive}`])
    assert.equal(created.code, 0, created.output)
    assert.match(
      created.output,
      /Backed up the database, \.env and 5 files of STORAGE_DIR into .*site\.fabackup/
    )
    const archive = await readFile(site.archive)
    assert.equal(archive.subarray(0, 8).toString(), 'FABACKUP')
    assert.notInclude(archive.toString('latin1'), 'Ada L.')

    await wipeSite()
    const restored = await ace(['backup:restore', site.archive])
    assert.equal(restored.code, 0, restored.output)
    assert.match(restored.output, /Restored the database and 5 files of STORAGE_DIR/)

    await openSite()
    assert.deepEqual(await siteContents(), before)
    assert.lengthOf(before.people, 2)
    assert.lengthOf(before.faces, 3)
    assert.lengthOf(before.events, 2)
    await assert.rejects(() => readFile(app.makePath(`${site.storage}/uploads/part-1`)))
  })

  test('a wrong key or a damaged file is refused and changes nothing', async ({ assert }) => {
    await openSite()
    const options = { connection }
    await Person.create(
      { username: 'backed-up', displayName: 'In the backup', status: 'active' },
      options
    )
    await storeFile(`${site.storage}/faces/aa/backed-up.jpg`, randomBytes(100))
    await closeSite()
    const created = await ace(['backup:create', `--output=${site.archive}`])
    assert.equal(created.code, 0, created.output)

    await wipeSite()
    await openSite()
    await Person.create(
      { username: 'since', displayName: 'Enrolled since', status: 'active' },
      options
    )
    const marker = await storeFile(`${site.storage}/faces/bb/since.jpg`, randomBytes(100))
    await closeSite()
    const unchanged = async () => {
      await openSite()
      const people = await Person.query({ connection }).select('username')
      assert.deepEqual(
        people.map((person) => person.username),
        ['since']
      )
      await readFile(app.makePath(marker))
      await assert.rejects(() => readFile(app.makePath(`${site.storage}/faces/aa/backed-up.jpg`)))
      await closeSite()
    }

    const wrongKey = await ace(['backup:restore', site.archive], {
      BACKUP_KEY: 'another key, not the one',
    })
    assert.equal(wrongKey.code, 1)
    assert.match(
      wrongKey.output,
      /The key does not open .*site\.fabackup: it was made with another BACKUP_KEY \(or --key-file\)\. Nothing was changed\./
    )
    await unchanged()

    const archive = await readFile(site.archive)
    const damaged = app.tmpPath('backup-site/damaged.fabackup')
    archive[Math.floor(archive.length / 2)] ^= 0x40
    await writeFile(damaged, archive)
    const refused = await ace(['backup:restore', damaged])
    assert.equal(refused.code, 1)
    assert.match(
      refused.output,
      /The backup is damaged \(its content does not match its authentication tag, near byte \d+\)\. Nothing was changed\./
    )
    await unchanged()

    const cut = app.tmpPath('backup-site/cut.fabackup')
    const whole = await readFile(site.archive)
    await writeFile(cut, whole.subarray(0, whole.length - 20))
    const cutOff = await ace(['backup:restore', cut])
    assert.equal(cutOff.code, 1)
    assert.match(cutOff.output, /The backup is damaged \(it is cut off, near byte \d+\)/)
    await unchanged()
  })

  test('backup:create refuses a short key and the APP_KEY', async ({ assert }) => {
    await openSite()
    await closeSite()
    const short = await ace(['backup:create', `--output=${site.archive}`], { BACKUP_KEY: 'short' })
    assert.equal(short.code, 1)
    assert.match(short.output, /The backup key has 5 characters; use at least 16 random ones/)

    const appKey = await ace(['backup:create', `--output=${site.archive}`], {
      BACKUP_KEY: app.config.get<{ release(): string }>('app.appKey').release(),
    })
    assert.equal(appKey.code, 1)
    assert.match(appKey.output, /The backup key is the APP_KEY: choose a key of its own/)
    await assert.rejects(() => readFile(site.archive))
  })
})
