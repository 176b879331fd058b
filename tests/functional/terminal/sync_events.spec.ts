import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import type Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { commandLineActor } from '#services/audit_trail'
import { PeopleService } from '#services/people_service'
import { deviceSyncNotices } from '#services/device_sync_notices'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { FaceDbRevision } from '#faces/face_db_revision'
import { addFace, grant, resetTerminalState, serverUrl } from '#tests/helpers/terminal'
import { SuiteRedis, until } from '#tests/helpers/redis_server'
import {
  getDbsSince,
  inBatches,
  syncEvents,
  terminalCall,
  type Answer,
} from '#tests/helpers/sync_terminals'

/** A syncEvents call under way: its answer once it came, and how to hang up. */
type Subscription = {
  device: Device
  answer: Answer | null
  done: Promise<Answer>
  hangUp: () => void
}

/** Calls still open when a test ends are hung up, so that a failed test leaves no wait behind. */
const open = new Set<Subscription>()

function subscribe(device: Device, revision: number): Subscription {
  const controller = new AbortController()
  const subscription: Subscription = {
    device,
    answer: null,
    done: syncEvents(device, revision, controller.signal).then((answer) => {
      subscription.answer = answer
      return answer
    }),
    hangUp: () => controller.abort(),
  }
  subscription.done.catch(() => {}).finally(() => open.delete(subscription))
  open.add(subscription)
  return subscription
}

/** Every device fetches its database in full, as a terminal does first; the revision it holds. */
async function firstSync(devices: Device[]) {
  const answers = await inBatches(devices, 50, (device) => getDbsSince(device))
  for (const answer of answers) {
    if (answer.body.code !== 0) throw new Error(`getDbs failed: ${JSON.stringify(answer.body)}`)
  }
  return answers.map((answer) => answer.body.revision as number)
}

async function subscribeAll(devices: Device[], revision: number) {
  const before = deviceSyncNotices.waiting
  const subscriptions: Subscription[] = []
  for (const device of devices) subscriptions.push(subscribe(device, revision))
  await until(
    async () => deviceSyncNotices.waiting >= before + devices.length,
    `${devices.length} terminals wait`,
    120_000
  )
  return subscriptions
}

async function setStatus(person: Person, status: 'active' | 'suspended') {
  const people = await app.container.make(PeopleService)
  return people.setStatus(commandLineActor(), person, status)
}

async function ledger() {
  return app.container.make(DeviceSyncLedger)
}

test.group('Device sync: syncEvents', (group) => {
  const configured = { ...terminalConfig.sync }
  const tokenRate = terminalConfig.tokens.perAddressPerMinute
  const deviceRate = terminalConfig.auth.perDevicePerMinute

  group.setup(() => {
    // Thousands of terminals call from this one address.
    terminalConfig.tokens.perAddressPerMinute = 1_000_000
    terminalConfig.auth.perDevicePerMinute = 1_000_000
    return () => {
      terminalConfig.tokens.perAddressPerMinute = tokenRate
      terminalConfig.auth.perDevicePerMinute = deviceRate
    }
  })
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => () => {
    Object.assign(terminalConfig.sync, configured)
    for (const subscription of open) subscription.hangUp()
  })

  test('a change reaches a waiting terminal within a second', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await addFace(person)
    await grant([person], [device])
    const [revision] = await firstSync([device])

    const latencies: number[] = []
    let held = revision
    for (const status of ['suspended', 'active', 'suspended'] as const) {
      const [waiting] = await subscribeAll([device], held)
      const started = performance.now()
      await setStatus(person, status)
      const answer = await waiting.done
      latencies.push(performance.now() - started)
      assert.include(answer.body, { flag: 'syncEvents', code: 0, changed: true, pending: 1 })
      const fetched = await getDbsSince(device, held)
      assert.include(fetched.body, { code: 0, full: false })
      held = fetched.body.revision
    }
    console.log(
      `  change to waiting terminal: ${latencies.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`
    )
    // Generous under a loaded machine; the latencies printed are what a quiet one shows.
    for (const ms of latencies) assert.isBelow(ms, 1000)
  })

  test('answers at once when the device is behind, and "no change" after the wait', async ({
    assert,
  }) => {
    terminalConfig.sync.waitSeconds = 1
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await addFace(person)
    await grant([person], [device])
    const [revision] = await firstSync([device])
    const sync = await ledger()

    await setStatus(person, 'suspended')
    const changedAt = await new FaceDbRevision().current()
    await until(async () => {
      const counted = await db.from('revision_counters').where('name', 'device_sync').first()
      return Number(counted?.value) >= changedAt
    }, 'the sync job counted the change')
    const behind = await syncEvents(device, revision)
    assert.include(behind.body, { code: 0, changed: true, pending: 1 })

    const fetched = await getDbsSince(device, revision)
    assert.deepEqual(fetched.body.removed, [person.username])
    const started = Date.now()
    const idle = await syncEvents(device, fetched.body.revision)
    assert.include(idle.body, { code: 0, changed: false, pending: 0, message: 'no change' })
    assert.isAtLeast(Date.now() - started, 900)
    assert.equal(deviceSyncNotices.waiting, 0)

    const state = await sync.stateOf(device.id)
    assert.equal(state?.acknowledgedRevision, fetched.body.revision)
    assert.equal(state?.pendingChanges, 0)
  })

  test('refuses a revision the server never had, and unsigned callers', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const [revision] = await firstSync([device])
    const ahead = await syncEvents(device, revision + 1000)
    assert.equal(ahead.body.code, 2)
    assert.match(ahead.body.message, /newer than the server's/)

    const response = await fetch(`${serverUrl}/faces/api/syncEvents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        deviceName: device.name,
        deviceSN: device.serialNumber,
        token: 'a'.repeat(40),
        revision,
      }),
    })
    assert.equal(((await response.json()) as { code: number }).code, 9001)
    assert.equal(deviceSyncNotices.waiting, 0)
  })

  test('a thousand waiting terminals: each is told once of the change that concerns it', async ({
    assert,
  }) => {
    terminalConfig.sync.waitSeconds = 300
    const devices = await DeviceFactory.apply('approved').createMany(1000)
    const east = devices.slice(0, 500)
    const west = devices.slice(500)
    const [eastPerson, westPerson] = await PersonFactory.createMany(2)
    await addFace(eastPerson)
    await addFace(westPerson)
    await grant([eastPerson], east)
    await grant([westPerson], west)
    const revisions = await firstSync(devices)
    const start = revisions[0]

    const first = await subscribeAll(devices, start)
    const started = performance.now()
    await setStatus(eastPerson, 'suspended')
    const eastFirst = first.filter((subscription) => east.includes(subscription.device))
    const westFirst = first.filter((subscription) => west.includes(subscription.device))
    for (const subscription of eastFirst) {
      const answer = await subscription.done
      assert.include(answer.body, { code: 0, changed: true, pending: 1 })
    }
    const eastMs = performance.now() - started
    // The same announcement was weighed for every waiter: the west ones are still waiting.
    assert.isTrue(westFirst.every((subscription) => subscription.answer === null))
    assert.equal(deviceSyncNotices.waiting, 500)

    const eastFetched = await inBatches(east, 50, (device) => getDbsSince(device, start))
    for (const fetched of eastFetched) {
      assert.include(fetched.body, { code: 0, full: false })
      assert.deepEqual(fetched.body.removed, [eastPerson.username])
    }
    const second = await subscribeAll(east, eastFetched[0].body.revision)

    const westStarted = performance.now()
    await setStatus(westPerson, 'suspended')
    for (const subscription of westFirst) {
      const answer = await subscription.done
      assert.include(answer.body, { code: 0, changed: true, pending: 1 })
    }
    const westMs = performance.now() - westStarted
    assert.isTrue(second.every((subscription) => subscription.answer === null))
    assert.equal(deviceSyncNotices.waiting, 500)
    const westFetched = await inBatches(west, 50, (device) => getDbsSince(device, start))
    for (const fetched of westFetched) {
      // getDbs lists every person changed since as removed unless sent; the east one too.
      assert.equal(fetched.body.code, 0)
      assert.includeMembers(fetched.body.removed, [westPerson.username])
    }
    console.log(
      `  1,000 waiting terminals: 500 told in ${eastMs.toFixed(0)} ms, then the other 500 in ${westMs.toFixed(0)} ms`
    )

    // Terminals that hang up are forgotten.
    for (const subscription of second) subscription.hangUp()
    await until(async () => deviceSyncNotices.waiting === 0, 'hung-up waits are dropped', 10_000)
    // The Devices page's counts: the east caught up, the west has fetched but not said so yet.
    const sync = await ledger()
    const states = await sync.statesOf(devices.map((device) => device.id))
    assert.deepEqual([...new Set(east.map((device) => states.get(device.id)?.pendingChanges))], [0])
    assert.deepEqual([...new Set(west.map((device) => states.get(device.id)?.pendingChanges))], [1])
  }).timeout(180_000)

  test('Redis restarting while terminals wait: each is answered, and waiting works again', async ({
    assert,
    cleanup,
  }) => {
    const server = await SuiteRedis.find()
    cleanup(async () => {
      if (!server.running) await server.start()
    })
    terminalConfig.sync.waitSeconds = 300
    const devices = await DeviceFactory.apply('approved').createMany(20)
    const person = await PersonFactory.create()
    await addFace(person)
    await grant([person], devices)
    const [revision] = await firstSync(devices)
    const waiting = await subscribeAll(devices, revision)

    const stopped = performance.now()
    await server.stop()
    const answers = await Promise.all(waiting.map((subscription) => subscription.done))
    const answeredMs = performance.now() - stopped
    for (const answer of answers) {
      assert.equal(answer.status, 503)
      assert.equal(answer.body.code, 9007)
    }
    assert.equal(deviceSyncNotices.waiting, 0)
    const refused = await terminalCall(devices[0], 'token', {
      deviceName: devices[0].name,
      sn: devices[0].serialNumber,
    })
    assert.equal(refused.body.code, 9007)
    // The database still takes changes; the sync job is queued once Redis is back.
    await setStatus(person, 'suspended')

    await server.start()
    await until(
      async () =>
        redis.connection().status === 'ready' &&
        redis.connection().ioSubscriberConnection?.status === 'ready',
      'the app is connected to Redis again',
      15_000
    )
    const again = devices.map((device) => subscribe(device, revision))
    for (const answer of await Promise.all(again.map((subscription) => subscription.done))) {
      assert.include(answer.body, { code: 0, changed: true, pending: 1 })
    }
    console.log(
      `  Redis stopped: 20 waiting terminals answered 9007 within ${answeredMs.toFixed(0)} ms`
    )
  })
})
