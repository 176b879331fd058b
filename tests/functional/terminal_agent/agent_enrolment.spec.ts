import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import sharp from 'sharp'
import AccessEvent from '#models/access_event'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceCommands } from '#services/device_commands'
import { parseAgentConfig } from '#terminal-client/agent_config'
import type { EnrolmentOutcome } from '#terminal-client/agent_contracts'
import { openAgentDatabase, writeSetting } from '#terminal-client/agent_store'
import { startTerminalAgent, type RunningAgent } from '#terminal-client/agent_runner'
import { TerminalAgent } from '#terminal-client/terminal_agent'
import { ModbusPeer } from '#tests/helpers/modbus_peer'
import {
  credentialOf,
  enrolPhotoOf,
  grant,
  resetTerminalState,
  serverUrl,
} from '#tests/helpers/terminal'
import { passagesClip } from '#tests/helpers/video_clips'

const fixture = (name: string) => app.makePath('tests/fixtures/pairs', name)
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(50)
  }
}

/** A port nothing listens on now, for the agent's display. */
async function freePort() {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const enrolmentWaitMs = TerminalAgent.enrolmentWaitMs
const enrolling = ['recognition', 'database', 'feedback', 'enrolment'] as const
const actor = { userId: null, label: 'test', ip: null }

/**
 * Enrolment at the door on an operator's command: the agent against the
 * real server, a video of people passing as its camera, its own engine
 * and a pymodbus relay board as its gate.
 */
test.group('Terminal agent: enrolment at the door', (group) => {
  let peer: ModbusPeer
  let folder: string
  let running: RunningAgent | null

  group.each.timeout(180_000)
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    peer = await ModbusPeer.rtu()
    folder = mkdtempSync(join(tmpdir(), 'agent-enrol-'))
    running = null
    return async () => {
      TerminalAgent.enrolmentWaitMs = enrolmentWaitMs
      await running?.stop()
      await peer.stop()
      rmSync(folder, { recursive: true, force: true })
    }
  })

  async function start(device: Device, video: string) {
    const pluginsFile = join(folder, 'plugins.json')
    writeFileSync(
      pluginsFile,
      JSON.stringify([
        { id: 'engine', plugin: 'face-engine', config: { poolSize: 1 } },
        {
          id: 'gate',
          plugin: 'modbus-gate',
          config: { bus: peer.bus, unitId: 1, timeoutMs: 1000, open: { coil: 0 } },
        },
      ])
    )
    const config = parseAgentConfig(
      {
        serverUrl,
        deviceName: device.name,
        serial: device.serialNumber,
        dataDir: join(folder, 'data'),
        mode: 'auto',
        camera: { source: video, fps: 8 },
        pluginsFile,
        door: { gate: 'gate', openMs: 800 },
        liveness: 'none',
        kiosk: { port: await freePort() },
        heartbeatSeconds: 5,
        onlineTimeoutMs: 5000,
      },
      folder
    )
    const store = openAgentDatabase(join(config.dataDir, 'agent.sqlite3'))
    writeSetting(store, 'credential', credentialOf(device).secret)
    store.close()
    const { plugins } = await import('#generated/plugins')
    running = await startTerminalAgent(config, { logger, plugins })
    const outcomes: { username: string; outcome: EnrolmentOutcome }[] = []
    running.agent.on('enrolment', ({ username, outcome }) => outcomes.push({ username, outcome }))
    let decided = 0
    running.agent.on('decided', () => decided++)
    return { outcomes, decided: () => decided }
  }

  const pulses = () =>
    peer.writes.filter((write) => write.table === 'co' && write.values[0] === 1).length

  test('the next good face is enrolled for the person named, not let through; a first face is held for review; with nobody coming it gives up', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved')
      .merge({ permissions: [...enrolling] })
      .create()
    const kaley = await PersonFactory.apply('consented')
      .merge({ username: 'kaley.cuoco', displayName: 'Kaley Cuoco' })
      .create()
    await enrolPhotoOf(kaley, await readFile(fixture('kaley_cuoco_penny1.png')))
    const kunal = await PersonFactory.apply('consented')
      .merge({ username: 'kunal.nayyar', displayName: 'Kunal Nayyar' })
      .create()
    // Both may pass this door: a passage decided as an access would open it.
    await grant([kaley, kunal], [device])

    const commands = await app.container.make(DeviceCommands)
    await commands.queue(actor, device, 'enrol', kaley)
    await commands.queue(actor, device, 'enrol', kunal)

    // An empty scene first, so that the commands arrive before anyone does.
    const grey = join(folder, 'grey.png')
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
      .png()
      .toFile(grey)
    const video = passagesClip(
      [grey, fixture('kaley_cuoco_penny2.png'), grey, fixture('kunal_nayyar_raj1.png')],
      join(folder, 'enrolment.mp4')
    )
    const { outcomes, decided } = await start(device, video)

    await until(
      () => running!.kiosk!.state.enrolment?.name === 'Kaley Cuoco',
      'the display names the person to enrol'
    )
    assert.notProperty(running!.kiosk!.state.enrolment, 'outcome')
    await until(() => outcomes.length === 2, 'both enrolments are over')
    assert.deepEqual(outcomes, [
      { username: 'kaley.cuoco', outcome: 'enrolled' },
      { username: 'kunal.nayyar', outcome: 'held_for_review' },
    ])
    assert.deepEqual(running!.kiosk!.state.enrolment, {
      name: 'Kunal Nayyar',
      outcome: 'held_for_review',
    })

    const faces = await Face.query().where('person_id', kaley.id).orderBy('id')
    assert.deepEqual(
      faces.map((face) => face.source),
      ['photo', 'terminal'],
      'the face seen at the door joins the uploaded one'
    )
    assert.lengthOf(await Face.query().where('person_id', kunal.id), 0)
    const review = await EnrolmentReview.findByOrFail('person_id', kunal.id)
    assert.deepEqual([review.kind, review.deviceId], ['face_change', device.id])
    assert.deepEqual(review.reasons, ['no_faces'])

    await until(async () => {
      const recent = await commands.recent(device.id)
      return recent.every((command) => command.status === 'done')
    }, 'both commands reported done')

    // The video is over: nobody comes for a third enrolment, which gives up.
    TerminalAgent.enrolmentWaitMs = 2000
    await commands.queue(actor, device, 'enrol', kaley)
    await until(() => outcomes.length === 3, 'the third enrolment gives up')
    assert.deepEqual(outcomes[2], { username: 'kaley.cuoco', outcome: 'timed_out' })
    assert.deepEqual(running!.kiosk!.state.enrolment, {
      name: 'Kaley Cuoco',
      outcome: 'timed_out',
    })
    await until(async () => {
      const recent = await commands.recent(device.id)
      return recent.length === 3 && recent.every((command) => command.status === 'done')
    }, 'the third command reported done')
    assert.lengthOf(await Face.query().where('person_id', kaley.id), 2)

    assert.equal(pulses(), 0, 'the gate stays shut')
    assert.equal(decided(), 0, 'no passage was decided as an access')
    assert.lengthOf(await AccessEvent.query().where('device_id', device.id), 0)
  })
})

test.group('Devices page: enrolment at the terminal', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('offered and queued only for a device allowed to enrol, for a person named by username or name', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const plain = await DeviceFactory.apply('approved').create()
    const allowed = await DeviceFactory.apply('approved')
      .merge({ permissions: [...enrolling] })
      .create()
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'ada', displayName: 'Ada Lovelace' })
      .create()

    const plainPage = await client.get(`/admin/devices/${plain.id}/edit`).loginAs(operator)
    plainPage.assertStatus(200)
    assert.include(plainPage.text(), 'data-test="agent-commands"')
    assert.notInclude(plainPage.text(), 'data-test="agent-enrol"')
    const allowedPage = await client.get(`/admin/devices/${allowed.id}/edit`).loginAs(operator)
    assert.include(allowedPage.text(), 'data-test="agent-enrol"')

    const refused = await client
      .post(`/admin/devices/${plain.id}/commands`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ type: 'enrol', person: 'ada' })
    refused.assertStatus(422)
    assert.include(
      JSON.stringify(refused.body()),
      'This terminal may not enrol: allow it enrolment in its permissions first.'
    )
    const backToForm = await client
      .post(`/admin/devices/${allowed.id}/commands`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `/admin/devices/${allowed.id}/edit`)
      .form({ type: 'enrol', person: 'nobody' })
      .redirects(0)
    backToForm.assertStatus(302)
    backToForm.assertFlashMessage('inputErrorsBag', {
      person: ['No person has this username, or more than one has this name.'],
    })
    await PersonFactory.merge({ username: 'grace', displayName: 'Grace Hopper' }).create()
    const unconsented = await client
      .post(`/admin/devices/${allowed.id}/commands`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ type: 'enrol', person: 'grace' })
    unconsented.assertStatus(422)
    assert.include(
      JSON.stringify(unconsented.body()),
      'No biometric consent is on record for Grace Hopper, and this terminal does not record it'
    )
    const missing = await client
      .post(`/admin/devices/${allowed.id}/commands`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ type: 'enrol' })
    missing.assertStatus(422)
    assert.lengthOf(await db.from('device_commands'), 0, 'nothing queued')

    for (const chosen of ['ada', 'Ada Lovelace']) {
      const queued = await client
        .post(`/admin/devices/${allowed.id}/commands`)
        .loginAs(operator)
        .withCsrfToken()
        .form({ type: 'enrol', person: chosen })
        .redirects(0)
      queued.assertStatus(302)
      queued.assertFlashMessage(
        'success',
        `${allowed.name} enrols Ada Lovelace from the next good face it sees.`
      )
    }
    const rows = await db.from('device_commands').select('device_id', 'type', 'person_id')
    assert.deepEqual(rows, [
      { device_id: allowed.id, type: 'enrol', person_id: person.id },
      { device_id: allowed.id, type: 'enrol', person_id: person.id },
    ])
    const entry = await AuditLog.findByOrFail('action', 'device.command.enrol')
    assert.equal(entry.userId, operator.id)

    const commands = await app.container.make(DeviceCommands)
    const { commands: delivered } = await commands.take(allowed.id)
    assert.deepEqual(
      delivered.map(({ type, username, name }) => ({ type, username, name })),
      [
        { type: 'enrol', username: 'ada', name: 'Ada Lovelace' },
        { type: 'enrol', username: 'ada', name: 'Ada Lovelace' },
      ]
    )
    const page = await client.get(`/admin/devices/${allowed.id}/edit`).loginAs(operator)
    assert.include(page.text(), 'data-test="command-person">ada</code>')
  })
})
