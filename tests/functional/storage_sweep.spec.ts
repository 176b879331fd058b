import { chmod, mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import EnrolmentReview from '#models/enrolment_review'
import { PersonFactory } from '#database/factories/person_factory'
import { MediaStore } from '#faces/media_store'
import { StorageSweep } from '#faces/storage_sweep'
import { addFace } from '#tests/helpers/terminal'

const minutes = (count: number) => count * 60_000

/**
 * A file under the storage folder, written `ageMinutes` ago, with `mode`;
 * returns its path as the database keeps it (relative to the app root).
 */
async function storedFile(path: string, ageMinutes = 0, mode = 0o600) {
  const absolute = join(terminalConfig.storageDir, path)
  await mkdir(dirname(absolute), { recursive: true, mode: 0o700 })
  await writeFile(absolute, 'photo bytes', { mode })
  await chmod(absolute, mode)
  const when = new Date(Date.now() - minutes(ageMinutes))
  await utimes(absolute, when, when)
  return relative(app.makePath(), absolute)
}

async function present(stored: string) {
  return stat(app.makePath(stored)).then(
    () => true,
    () => false
  )
}

async function allFiles() {
  const entries = await readdir(terminalConfig.storageDir, { withFileTypes: true, recursive: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(app.makePath(), join(entry.parentPath, entry.name)))
    .sort()
}

const hour = 60

test.group('Storage sweep', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => {
    const storage = terminalConfig.storageDir
    terminalConfig.storageDir = app.makePath('tmp', `storage_sweep_spec_${process.pid}`)
    return async () => {
      await rm(terminalConfig.storageDir, { recursive: true, force: true })
      terminalConfig.storageDir = storage
    }
  })

  test('removes what a crash left once it is old enough, and nothing anyone uses', async ({
    assert,
  }) => {
    const person = await PersonFactory.create()
    const enrolled = await storedFile('faces/aa/enrolled.jpg', 3 * hour)
    await addFace(person, { imagePath: enrolled })
    const held = await storedFile('faces/bb/held.jpg', 3 * hour)
    await EnrolmentReview.create({
      kind: 'face_change',
      deviceLabel: 'Gate (SN-1)',
      personId: person.id,
      username: person.username,
      requestedName: person.displayName,
      reasons: ['no_match'],
      imagePath: held,
    })
    const orphan = await storedFile('faces/cc/orphan.jpg', 2 * hour)
    const inFlight = await storedFile('faces/dd/in-flight.jpg', 5)
    const deadPartial = await storedFile('faces/ee/photo.jpg.1234.partial', 2)
    const livePartial = await storedFile('snapshots/2025/01/02/snap.jpg.5678.partial', 0)
    const deadSnapshotPartial = await storedFile('snapshots/2025/01/02/old.jpg.9.partial', 30)
    const snapshot = await storedFile('snapshots/2025/01/02/event.jpg', 10 * hour)
    const expiredStaged = await storedFile('staging/aaaa.photo', MediaStore.stagedPhotoMinutes + 1)
    const staged = await storedFile('staging/bbbb.photo', 5)
    const oldPart = await storedFile('uploads/part-of-a-crash', 2 * hour)
    const livePart = await storedFile('uploads/part-in-flight', 1)

    const report = await new StorageSweep(new MediaStore()).run()

    assert.deepEqual(report.orphanPhotos, [orphan])
    assert.sameMembers(report.partials, [deadPartial, deadSnapshotPartial])
    assert.equal(report.stagedFiles, 1)
    assert.equal(report.uploadParts, 1)
    assert.equal(report.tightened, 0)
    assert.deepEqual(
      await allFiles(),
      [enrolled, held, inFlight, livePartial, snapshot, staged, livePart].sort()
    )
    for (const gone of [orphan, deadPartial, expiredStaged, oldPart]) {
      assert.isFalse(await present(gone), gone)
    }
  })

  test('a photo an enrolment takes again is made new, so the sweep leaves it', async ({
    assert,
  }) => {
    const media = new MediaStore()
    const bytes = Buffer.from('the same photo sent twice')
    const stored = await media.saveFacePhoto(bytes, 'jpeg')
    const old = new Date(Date.now() - minutes(2 * hour))
    await utimes(app.makePath(stored), old, old)

    assert.equal(await media.saveFacePhoto(bytes, 'jpeg'), stored)
    const report = await new StorageSweep(media).run()
    assert.deepEqual(report.orphanPhotos, [])
    assert.isTrue(await present(stored))
  })

  test('with tighten, makes what others could read owner-only', async ({ assert }) => {
    const loose = await storedFile('faces/ff/loose.jpg', 0, 0o644)
    await chmod(dirname(app.makePath(loose)), 0o755)
    await chmod(terminalConfig.storageDir, 0o755)
    const person = await PersonFactory.create()
    await addFace(person, { imagePath: loose })

    const report = await new StorageSweep(new MediaStore()).run({ tighten: true })

    assert.equal(report.tightened, 3)
    const mode = (path: string) => stat(path).then((info) => info.mode & 0o777)
    assert.equal(await mode(app.makePath(loose)), 0o600)
    assert.equal(await mode(dirname(app.makePath(loose))), 0o700)
    assert.equal(await mode(terminalConfig.storageDir), 0o700)
  })

  test('node ace storage:sweep runs it and names what it removed', async ({ assert }) => {
    const orphan = await storedFile('faces/ab/orphan.jpg', 2 * hour)
    const recent = await storedFile('faces/ab/recent.jpg', 10)
    const ace = await app.container.make('ace')
    ace.ui.switchMode('raw')

    const command = await ace.exec('storage:sweep', ['--grace=5'])

    command.assertSucceeded()
    command.assertLogMatches(new RegExp(`removed ${orphan}`))
    command.assertLogMatches(/0 partial files, 2 unreferenced photos/)
    assert.isFalse(await present(recent))
    ace.ui.logger.flushLogs()
  })
})
