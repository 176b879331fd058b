import { readFile, rm } from 'node:fs/promises'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import type Person from '#models/person'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { commandLineActor } from '#services/audit_trail'
import { PeopleService } from '#services/people_service'
import { siteTimeZone } from '#services/site_time'
import { FaceDbRevision } from '#faces/face_db_revision'
import { FeatureComparator } from '#faces/feature_blob'
import { RecognitionEngine } from '#faces/recognition_engine'
import type { FaceFeature } from '#plugin-sdk'
import { openAgentDatabase, type AgentDatabase } from '#terminal-client/agent_store'
import { FaceSync, type FaceSyncOptions } from '#terminal-client/offline/face_sync'
import { OfflineDecider } from '#terminal-client/offline/offline_decider'
import { readCopy, UnusableAnswer } from '#terminal-client/offline/offline_copy'
import {
  addFace,
  credentialOf,
  enrolPhotoOf,
  grant,
  post,
  resetTerminalState,
  serverUrl,
  tokenFor,
  touchPerson,
} from '#tests/helpers/terminal'

/**
 * The agent's offline mode against the suite's real server: its copy is
 * fetched with getDbs and kept current with syncEvents, and its decisions
 * from the copy, on features the real engine makes from the fixture
 * photos, are the server's faceIdentify decisions.
 */
const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

async function featureOf(file: string): Promise<FaceFeature> {
  const recognition = await app.container.make(RecognitionEngine)
  const embedded = await recognition.withPicture(await photo(file), 'image', ({ picture }) =>
    picture.embed()
  )
  if (!embedded.ok) throw new Error(`no feature from ${file}: ${embedded.error.type}`)
  return embedded.feature
}

async function serverIdentify(client: ApiClient, device: Device, file: string) {
  const fields = { token: await tokenFor(client, device) }
  const response = await post(client, 'faceIdentify', fields, 'multipart', device, {
    image: { data: await photo(file), filename: file },
  })
  return response.body()
}

async function enrolled(username: string, file: string, extra: Partial<Person> = {}) {
  const person = await PersonFactory.apply('consented')
    .merge({ username, displayName: username.replace('.', ' '), ...extra })
    .create()
  await enrolPhotoOf(person, await photo(file))
  return person
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

type Agent = { db: AgentDatabase; sync: FaceSync; decider: OfflineDecider; syncs: number }

const agentFiles: string[] = []
const running: Agent[] = []

async function agentFor(
  device: Device,
  options: { name?: string; url?: string } & Partial<FaceSyncOptions> = {}
): Promise<Agent> {
  const path = app.makePath('tmp', `offline-${process.pid}-${options.name ?? device.id}.sqlite3`)
  agentFiles.push(path)
  const db = openAgentDatabase(path)
  const comparator = await FeatureComparator.fromManifest(app.makePath('models/manifest.json'))
  const decider = new OfflineDecider({ db, comparator, policy: terminalConfig.identification })
  const agent: Agent = { db, decider, syncs: 0, sync: null as never }
  agent.sync = new FaceSync({
    db,
    serverUrl: options.url ?? serverUrl,
    device: {
      deviceName: device.name,
      serialNumber: device.serialNumber,
      secret: credentialOf(device).secret,
    },
    baseBackoffMs: 50,
    maxBackoffMs: 500,
    ...options,
    onSynced: () => {
      agent.syncs++
      decider.reload()
    },
  })
  running.push(agent)
  return agent
}

/**
 * A TCP relay to the suite's server that can be shut, as a server that
 * stops (connections refused), and opened again on the same port.
 */
class Relay {
  #server: Server | null = null
  #sockets = new Set<Socket>()
  port = 0

  async open() {
    const target = new URL(serverUrl)
    this.#server = createServer((socket) => {
      const upstream = connect(Number(target.port), target.hostname)
      for (const end of [socket, upstream]) {
        this.#sockets.add(end)
        end.on('close', () => this.#sockets.delete(end))
        end.on('error', () => {})
      }
      socket.pipe(upstream).pipe(socket)
    })
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.#server.address() as { port: number }).port
    return `http://127.0.0.1:${this.port}`
  }

  async shut() {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve())
    this.#server = null
  }
}

test.group('Terminal agent: offline decisions from the synced copy', (group) => {
  const tokenRate = terminalConfig.tokens.perAddressPerMinute
  const deviceRate = terminalConfig.auth.perDevicePerMinute

  group.setup(() => {
    // A long run syncs hundreds of times a minute from this address.
    terminalConfig.tokens.perAddressPerMinute = 1_000_000
    terminalConfig.auth.perDevicePerMinute = 1_000_000
    return () => {
      terminalConfig.tokens.perAddressPerMinute = tokenRate
      terminalConfig.auth.perDevicePerMinute = deviceRate
    }
  })
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  // Set up after the transaction so that agents stop before it is rolled back.
  group.each.setup(() => async () => {
    for (const agent of running.splice(0)) {
      await agent.sync.stop()
      agent.db.close()
    }
    for (const path of agentFiles.splice(0)) {
      await Promise.all(['', '-wal', '-shm'].map((end) => rm(`${path}${end}`, { force: true })))
    }
  })

  test('decides as faceIdentify: granted, outside schedule, expired, suspended, stranger', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const now = DateTime.now().setZone(siteTimeZone)
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    const kit = await enrolled('kit.harington', 'kit_harington_01.jpg')
    const rose = await enrolled('rose.leslie', 'rose_leslie_01.jpg')
    const alex = await enrolled('alex.lacamoire', 'alex_lacamoire_01.jpg')
    const later = await Schedule.create({ name: 'Later today' })
    const start = (now.hour * 60 + now.minute + 120) % 1380
    await ScheduleWindow.create({
      scheduleId: later.id,
      weekday: now.weekday,
      startsAtMinute: start,
      endsAtMinute: start + 30,
    })
    await grant([barack, rose, alex], [device])
    await grant([kit], [device], later.id)

    const compare = async (file: string, reason: string, username?: string) => {
      const server = await serverIdentify(client, device, file)
      const offline = agent.decider.decide({ feature: await featureOf(file) })
      assert.include(server, { code: 0, reason }, file)
      assert.include(offline, { decision: server.decision, reason }, file)
      assert.equal(offline.username, username, file)
      assert.equal(server.person?.username, username, file)
      assert.closeTo(offline.score!, server.score, 1e-4, file)
      assert.closeTo(offline.runnerUpScore!, server.runnerUpScore, 1e-4, file)
      assert.closeTo(offline.threshold, server.threshold, 1e-4, file)
    }

    // Valid for a few seconds more: the copy is made now, and decided from once that ended.
    rose.validUntil = DateTime.now().plus({ seconds: 5 }).startOf('second')
    await rose.save()
    const agent = await agentFor(device)
    const first = await agent.sync.syncNow()
    assert.isTrue(first.full)
    assert.equal(agent.decider.people, 4)
    assert.isBelow(Date.now(), rose.validUntil.toMillis(), 'the copy was made while Rose was valid')

    await compare('barack_obama_02.jpg', 'granted', 'barack.obama')
    await compare('kit_harington_03.jpg', 'outside_schedule', 'kit.harington')
    await compare('joe_biden_01.jpg', 'unknown_face')
    await until(() => Date.now() > rose.validUntil!.toMillis() + 1000, 'Rose’s validity ended')
    await compare('rose_leslie_02.jpg', 'expired', 'rose.leslie')

    // The server no longer sends a suspended person: offline they are a stranger, denied alike.
    const people = await app.container.make(PeopleService)
    await people.setStatus(commandLineActor(), alex, 'suspended')
    await agent.sync.syncNow()
    const server = await serverIdentify(client, device, 'alex_lacamoire_02.png')
    const offline = agent.decider.decide({ feature: await featureOf('alex_lacamoire_02.png') })
    assert.include(server, { decision: 'denied', reason: 'suspended' })
    assert.include(offline, { decision: 'denied', reason: 'unknown_face' })
    assert.sameMembers(
      readCopy(agent.db).people.map((person) => person.username),
      ['barack.obama', 'kit.harington']
    )
  }).timeout(120_000)

  test('a person deleted on the server leaves the agent at the next change it hears of', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    const kit = await enrolled('kit.harington', 'kit_harington_01.jpg')
    await grant([barack, kit], [device])
    const probe = await featureOf('kit_harington_03.jpg')

    const agent = await agentFor(device)
    agent.sync.start()
    await until(() => agent.decider.people === 2, 'the first sync')
    assert.equal(agent.decider.decide({ feature: probe }).reason, 'granted')
    const held = agent.sync.revision!

    const people = await app.container.make(PeopleService)
    await people.delete(commandLineActor(), kit)
    await until(() => agent.decider.people === 1, 'the deletion reached the agent')
    assert.isAbove(agent.sync.revision!, held)
    assert.include(agent.decider.decide({ feature: probe }), { reason: 'unknown_face' })
    const copy = readCopy(agent.db)
    assert.deepEqual(
      copy.people.map((person) => person.username),
      ['barack.obama']
    )
    assert.isTrue(copy.faces.every((face) => face.username === 'barack.obama'))
    assert.isNull(agent.sync.lastError.message)
  }).timeout(120_000)

  test('with the server stopped it keeps deciding from its copy, and catches up once back', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    const kit = await enrolled('kit.harington', 'kit_harington_01.jpg')
    await grant([barack, kit], [device])
    const probe = await featureOf('barack_obama_02.jpg')

    const relay = new Relay()
    const agent = await agentFor(device, { url: await relay.open() })
    agent.sync.start()
    await until(() => agent.sync.revision !== null, 'the first sync')
    const held = agent.sync.revision
    const syncedAt = agent.sync.lastSyncAt

    await relay.shut()
    const people = await app.container.make(PeopleService)
    await people.delete(commandLineActor(), kit)
    await assert.rejects(() => agent.sync.syncNow())
    await until(() => agent.sync.lastError.message !== null, 'the loop failed')
    for (let i = 0; i < 50; i++) {
      assert.include(agent.decider.decide({ feature: probe }), {
        decision: 'granted',
        username: 'barack.obama',
      })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(agent.sync.revision, held)
    assert.deepEqual(agent.sync.lastSyncAt, syncedAt)
    assert.equal(agent.decider.people, 2)

    await relay.open()
    await until(() => agent.decider.people === 1, 'the agent caught up')
    assert.isAbove(agent.sync.revision!, held!)
  }).timeout(120_000)

  test('an answer it cannot use leaves the copy whole', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    await grant([barack], [device])
    let spoil: ((body: string) => string) | null = null
    const agent = await agentFor(device, {
      fetch: async (url, init) => {
        const response = await fetch(url, init)
        if (!spoil || !String(url).endsWith('/getDbs')) return response
        return new Response(spoil(await response.text()), { status: response.status })
      },
    })
    await agent.sync.syncNow()
    const before = readCopy(agent.db)

    spoil = (body) => JSON.stringify({ ...JSON.parse(body), people: undefined, names: [] })
    await assert.rejects(() => agent.sync.syncNow(), UnusableAnswer as never)
    spoil = () => '<html>502 Bad Gateway</html>'
    await assert.rejects(() => agent.sync.syncNow())
    spoil = (body) => body.slice(0, body.length / 2)
    await assert.rejects(() => agent.sync.syncNow())
    assert.deepEqual(readCopy(agent.db), before)
    assert.equal(agent.decider.people, 1)

    spoil = null
    await agent.sync.syncNow()
    assert.equal(agent.decider.people, 1)
  }).timeout(120_000)

  test('a restart goes on from the stored revision, deciding before it reaches the server', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    await grant([barack], [device])
    const probe = await featureOf('barack_obama_02.jpg')

    const first = await agentFor(device, { name: 'restart' })
    await first.sync.syncNow()
    const held = first.sync.revision
    running.splice(running.indexOf(first), 1)
    first.db.close()

    const asked: { endpoint: string; since: string | null }[] = []
    const answers: Record<string, unknown>[] = []
    const again = await agentFor(device, {
      name: 'restart',
      fetch: async (url, init) => {
        const endpoint = String(url).split('/').pop()!
        if (endpoint === 'getDbs' || endpoint === 'syncEvents') {
          const fields = new URLSearchParams(String(init?.body))
          asked.push({ endpoint, since: fields.get('since') ?? fields.get('revision') })
        }
        const response = await fetch(url, init)
        if (endpoint === 'getDbs') {
          answers.push((await response.clone().json()) as Record<string, unknown>)
        }
        return response
      },
    })
    assert.equal(again.sync.revision, held)
    assert.include(again.decider.decide({ feature: probe }), { reason: 'granted' })

    again.sync.start()
    await until(() => asked.some((call) => call.endpoint === 'syncEvents'), 'it listens')
    assert.deepEqual(asked[0], { endpoint: 'getDbs', since: String(held) })
    assert.include(answers[0], { code: 0, full: false })
    assert.lengthOf(answers[0].names as unknown[], 0)
    assert.deepEqual(asked[1], { endpoint: 'syncEvents', since: String(held) })
    assert.equal(again.decider.people, 1)
  }).timeout(120_000)

  test('a server restored to an older revision is fetched from in full', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    await grant([barack], [device])
    const revisions = new FaceDbRevision()
    const agent = await agentFor(device)
    await agent.sync.syncNow()
    const serverRevision = await revisions.current()
    agent.db.prepare('update sync_state set revision = ?').run(serverRevision + 100)
    agent.db.prepare('delete from faces').run()

    agent.sync.start()
    await until(() => agent.sync.revision === serverRevision, 'the full fetch')
    assert.lengthOf(readCopy(agent.db).faces, 1)
    assert.equal(agent.decider.faces, 1)
  }).timeout(120_000)

  test('commands in a syncEvents answer are passed on', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const command = { id: 7, type: 'sync_now' as const, issuedAt: new Date().toISOString() }
    const received: unknown[] = []
    const agent = await agentFor(device, {
      fetch: async (url, init) => {
        const response = await fetch(url, init)
        if (!String(url).endsWith('/syncEvents')) return response
        const body = { ...((await response.json()) as object), commands: [command] }
        return new Response(JSON.stringify(body), { status: response.status })
      },
      onCommands: (commands) => void received.push(...commands),
    })
    terminalConfig.sync.waitSeconds = 1
    agent.sync.start()
    await until(() => received.length >= 2, 'two answers with commands')
    assert.deepEqual(received[0], command)
  })
    .timeout(120_000)
    .setup(() => {
      const wait = terminalConfig.sync.waitSeconds
      return () => {
        terminalConfig.sync.waitSeconds = wait
      }
    })

  test('a long run: thousands of decisions and hundreds of syncs, without errors or growth', async ({
    assert,
  }) => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const device = await DeviceFactory.apply('approved').create()
    const barack = await enrolled('barack.obama', 'barack_obama_01.jpg')
    const fillers = await PersonFactory.createMany(20)
    for (const filler of fillers) await addFace(filler)
    await grant([barack, ...fillers], [device])
    const [known, stranger] = [
      await featureOf('barack_obama_02.jpg'),
      await featureOf('joe_biden_01.jpg'),
    ]
    const revisions = new FaceDbRevision()

    const agent = await agentFor(device)
    agent.sync.start()
    await until(async () => agent.sync.revision === (await revisions.current()), 'first sync')

    const rounds = 300
    let decisions = 0
    let heapAfterWarmUp = 0
    for (let round = 0; round < rounds; round++) {
      await touchPerson(fillers[round % fillers.length])
      const target = await revisions.current()
      await until(() => (agent.sync.revision ?? 0) >= target, `sync of round ${round}`)
      for (let i = 0; i < 10; i++) {
        const decision = agent.decider.decide({ feature: i % 2 ? stranger : known })
        assert.equal(decision.reason, i % 2 ? 'unknown_face' : 'granted')
        decisions++
      }
      if (round === 50) {
        gc()
        heapAfterWarmUp = process.memoryUsage().heapUsed
      }
    }
    for (let i = 0; i < 3000; i++) {
      assert.equal(agent.decider.decide({ feature: known }).username, 'barack.obama')
      decisions++
    }
    gc()
    const growth = process.memoryUsage().heapUsed - heapAfterWarmUp
    assert.isAtLeast(agent.syncs, rounds)
    assert.equal(decisions, rounds * 10 + 3000)
    assert.isNull(agent.sync.lastError.message)
    assert.lengthOf(readCopy(agent.db).faces, 21)
    assert.equal(agent.decider.people, 21)
    // The suite's own server shares this heap; a leak of a sync or a reload would be far larger.
    assert.isBelow(growth, 32 * 1024 * 1024, `heap grew by ${growth} bytes`)
  }).timeout(600_000)
})
