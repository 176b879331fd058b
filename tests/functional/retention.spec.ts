import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { stat } from 'node:fs/promises'
import sharp from 'sharp'
import { QueueEvents } from 'bullmq'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import AccessEvent from '#models/access_event'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import type Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { ConsentWithdrawal } from '#faces/consent_withdrawal'
import { FaceThumbnails } from '#faces/face_thumbnails'
import { MediaStore } from '#faces/media_store'
import EraseInactiveBiometricsJob from '#jobs/erase_inactive_biometrics_job'
import { QueueService } from '#services/queue_service'
import { RetentionService } from '#services/retention_service'
import { toSqlDateTime } from '#services/sql_time'
import type { QueueConfig } from '#config/queue'
import {
  addFace,
  grant,
  post,
  resetTerminalState,
  storedFileExists,
  tokenFor,
} from '#tests/helpers/terminal'

const stored: string[] = []

/** A picture no other test stores (photos are kept by content). */
async function uniquePicture() {
  const [r, g, b] = [0, 0, 0].map(() => Math.floor(Math.random() * 256))
  return sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer()
}

async function storedPhoto() {
  const path = await new MediaStore().saveFacePhoto(await uniquePicture(), 'png')
  stored.push(path)
  return path
}

async function storedSnapshot() {
  const path = await new MediaStore().saveSnapshot(await uniquePicture(), 'png')
  stored.push(path)
  return path
}

const daysAgo = (days: number) => DateTime.now().minus({ days })

async function eventOf(person: Person | null, occurredAt: DateTime, snapshotPath: string | null) {
  return AccessEvent.create({
    personId: person?.id ?? null,
    decision: person ? 'granted' : 'denied',
    reason: person ? 'granted' : 'unknown_face',
    method: 'face',
    snapshotPath,
    occurredAt,
    receivedAt: occurredAt,
  })
}

/** A person with one face and its photo, created, changed and enrolled `days` ago. */
async function personSince(days: number, displayName: string) {
  const person = await PersonFactory.apply('consented')
    .apply('withCard')
    .merge({ displayName })
    .create()
  const face = await addFace(person, { imagePath: await storedPhoto() })
  const then = toSqlDateTime(daysAgo(days))
  await db.from('people').where('id', person.id).update({ created_at: then, updated_at: then })
  await db.from('faces').where('id', face.id).update({ created_at: then })
  return { person, face }
}

async function getDbs(client: ApiClient, device: Device, since?: number) {
  const token = await tokenFor(client, device)
  const response = await post(
    client,
    'getDbs',
    { deviceName: device.name, deviceSN: device.serialNumber, token, since },
    'json',
    device
  )
  return response.body() as {
    code: number
    revision: number
    names: { username: string }[]
    removed: string[]
  }
}

const tombstonesOf = (username: string) =>
  db.from('face_db_tombstones').where('username', username).select('revision')

const erasures = () => AuditLog.query().where('action', 'person.biometric_erase').orderBy('id')

function thumbnailsExist(path: string) {
  return stat(new MediaStore().thumbnailFolder(path)!).then(
    () => true,
    () => false
  )
}

test.group('Retention', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.teardown(async () => {
    const media = new MediaStore()
    for (const path of stored.splice(0)) await media.remove(path)
  })

  test('events past their retention go with their snapshot files and thumbnails; the person keeps when they were last seen', async ({
    assert,
  }) => {
    const person = await PersonFactory.create()
    const oldSnapshot = await storedSnapshot()
    const recentSnapshot = await storedSnapshot()
    await new FaceThumbnails(new MediaStore()).picture(oldSnapshot, 96)
    assert.isTrue(await thumbnailsExist(oldSnapshot))
    const oldest = await eventOf(person, daysAgo(500), null)
    const old = await eventOf(person, daysAgo(400), oldSnapshot)
    const recent = await eventOf(person, daysAgo(2), recentSnapshot)

    const retention = await app.container.make(RetentionService)
    assert.equal(await retention.pruneAccessEvents(365, 1), 2)

    assert.isNull(await AccessEvent.find(oldest.id))
    assert.isNull(await AccessEvent.find(old.id))
    assert.isNotNull(await AccessEvent.find(recent.id))
    assert.isFalse(await storedFileExists(oldSnapshot))
    assert.isFalse(await thumbnailsExist(oldSnapshot))
    assert.isTrue(await storedFileExists(recentSnapshot))
    await person.refresh()
    // SQLite keeps whole seconds, PostgreSQL milliseconds.
    assert.equal(
      Math.floor(person.lastAccessAt!.toSeconds()),
      Math.floor(old.occurredAt.toSeconds())
    )

    assert.equal(await retention.pruneAccessEvents(365), 0, 'a second run finds nothing')
    await assert.rejects(() => retention.pruneAccessEvents(0), /olderThanDays must be a whole/)
    assert.isNotNull(await AccessEvent.find(recent.id), 'a bad period deletes nothing')
  })

  test('snapshots past their retention are deleted from disk and the event kept without one', async ({
    assert,
  }) => {
    const oldSnapshot = await storedSnapshot()
    const recentSnapshot = await storedSnapshot()
    await new FaceThumbnails(new MediaStore()).picture(oldSnapshot, 96)
    const old = await eventOf(null, daysAgo(100), oldSnapshot)
    const recent = await eventOf(null, daysAgo(10), recentSnapshot)

    const retention = await app.container.make(RetentionService)
    assert.equal(await retention.pruneSnapshots(90), 1)

    await old.refresh()
    await recent.refresh()
    assert.isNull(old.snapshotPath)
    assert.equal(recent.snapshotPath, recentSnapshot)
    assert.isFalse(await storedFileExists(oldSnapshot))
    assert.isFalse(await thumbnailsExist(oldSnapshot))
    assert.isTrue(await storedFileExists(recentSnapshot))
    assert.equal(await retention.pruneSnapshots(90), 0, 'a second run finds nothing')
  })

  test('the biometric data of inactive people is erased with an audit entry and a tombstone; active people keep theirs', async ({
    assert,
    client,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const idle = await personSince(1200, 'Idle Ida')
    const heldFor = await storedPhoto()
    const held = await EnrolmentReview.create({
      kind: 'face_change',
      deviceLabel: 'Gate (SN-1)',
      personId: idle.person.id,
      username: idle.person.username,
      requestedName: idle.person.displayName,
      reasons: ['no_match'],
      imagePath: heldFor,
    })
    await db
      .from('enrolment_reviews')
      .where('id', held.id)
      .update({ created_at: toSqlDateTime(daysAgo(1200)) })
    await eventOf(idle.person, daysAgo(1100), null)

    const seen = await personSince(1200, 'Seen Sam')
    await eventOf(seen.person, daysAgo(30), null)
    const seenLongAgo = await personSince(1200, 'Pruned Pat')
    await db
      .from('people')
      .where('id', seenLongAgo.person.id)
      .update({ last_access_at: toSqlDateTime(daysAgo(400)) })
    const enrolled = await personSince(1200, 'Enrolled Eve')
    await addFace(enrolled.person, { seed: enrolled.person.id + 5000 })
    const edited = await personSince(1200, 'Edited Ed')
    await db
      .from('people')
      .where('id', edited.person.id)
      .update({ updated_at: toSqlDateTime(daysAgo(3)) })
    const faceless = await PersonFactory.create()
    const then = toSqlDateTime(daysAgo(1200))
    await db.from('people').where('id', faceless.id).update({ created_at: then, updated_at: then })

    await grant([idle.person, seen.person], [device])
    const before = await getDbs(client, device)
    assert.includeMembers(
      before.names.map((entry) => entry.username),
      [idle.person.username, seen.person.username]
    )

    const retention = await app.container.make(RetentionService)
    const inactive = await retention.inactivePeople(1095)
    assert.deepEqual(
      inactive.map((person) => person.id),
      [idle.person.id]
    )
    assert.equal(await retention.eraseInactive(1095), 1)

    assert.isNull(await Face.find(idle.face.id))
    assert.isNull(await EnrolmentReview.find(held.id))
    assert.isFalse(await storedFileExists(idle.face.imagePath!))
    assert.isFalse(await storedFileExists(heldFor))
    for (const kept of [seen, seenLongAgo, enrolled, edited]) {
      assert.isNotNull(await Face.find(kept.face.id), kept.person.displayName)
      assert.isTrue(await storedFileExists(kept.face.imagePath!), kept.person.displayName)
    }
    await idle.person.refresh()
    assert.equal(idle.person.status, 'active', 'the person stays')
    assert.isNotNull(idle.person.cardNumber)

    const [entry] = await erasures()
    assert.equal(entry.actor, 'system:biometric_retention')
    assert.isNull(entry.userId)
    assert.equal(entry.subjectId, String(idle.person.id))
    assert.equal(entry.subjectLabel, idle.person.username)
    assert.deepInclude(entry.before, { faces: 1, heldFaces: 1 })
    assert.deepInclude(entry.after, { faces: 0, rule: 'biometric_retention', retentionDays: 1095 })

    const tombstones = await tombstonesOf(idle.person.username)
    assert.lengthOf(tombstones, 1)
    assert.equal(Number(tombstones[0].revision), Number(idle.person.revision))

    const after = await getDbs(client, device, before.revision)
    assert.include(after, { code: 0 })
    assert.deepEqual(after.removed, [idle.person.username])
    assert.notInclude(
      after.names.map((name) => name.username),
      idle.person.username
    )

    const admin = await UserFactory.apply('admin').create()
    const log = await client.get('/admin/audit').loginAs(admin)
    log.assertTextIncludes(
      'The server (biometric retention rule) erased the biometric data of Idle Ida, inactive for 1095 days: 1 face'
    )
  })

  test('the erasure job run twice through the queue erases once', async ({ assert, cleanup }) => {
    const idle = await personSince(1200, 'Twice Tom')
    const queue = await app.container.make(QueueService)
    const config = app.config.get<QueueConfig>('queue')
    const events = new QueueEvents(config.queueName, {
      connection: { ...config.connection, maxRetriesPerRequest: null },
      prefix: config.prefix,
    })
    cleanup(() => events.close())
    await events.waitUntilReady()

    const results = []
    for (let run = 0; run < 2; run++) {
      const id = await queue.dispatch(EraseInactiveBiometricsJob, { inactiveDays: 1095 })
      results.push(await (await queue.queue.getJob(id))!.waitUntilFinished(events, 20_000))
    }
    await idle.person.refresh()
    const revision = Number(idle.person.revision)

    assert.deepEqual(results, [{ erased: 1 }, { erased: 0 }])
    assert.lengthOf(await erasures(), 1)
    assert.lengthOf(await tombstonesOf(idle.person.username), 1)
    assert.isNull(await Face.find(idle.face.id))
    await idle.person.refresh()
    assert.equal(Number(idle.person.revision), revision, 'the second run bumped nothing')
  })

  test('a withdrawn consent leaves a tombstone at the revision it made', async ({ assert }) => {
    const { person } = await personSince(1, 'Withdrawn Wu')
    const operator = await UserFactory.create()
    const withdrawal = await app.container.make(ConsentWithdrawal)

    const result = await withdrawal.withdraw(
      { userId: operator.id, label: operator.email, ip: null },
      person
    )

    assert.deepEqual(result, { ok: true, faces: 1 })
    await person.refresh()
    const tombstones = await tombstonesOf(person.username)
    assert.lengthOf(tombstones, 1)
    assert.equal(Number(tombstones[0].revision), Number(person.revision))
  })

  test('the Settings page shows the retention in force', async ({ client }) => {
    const admin = await UserFactory.apply('admin').create()
    const page = await client.get('/admin/settings').loginAs(admin)
    page.assertStatus(200)
    page.assertTextIncludes('data-rule="events" data-days="365"')
    page.assertTextIncludes('data-rule="snapshots" data-days="90"')
    page.assertTextIncludes('data-rule="biometrics" data-days="1095"')
    page.assertTextIncludes('BIOMETRIC_RETENTION_DAYS')
  })
})
