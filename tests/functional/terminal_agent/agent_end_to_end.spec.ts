import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { DeviceCommands } from '#services/device_commands'
import { DeviceHeartbeats } from '#services/device_heartbeats'
import { PersonFactory } from '#database/factories/person_factory'
import { parseAgentConfig, type AgentConfig } from '#terminal-client/agent_config'
import type { PassageResult } from '#terminal-client/agent_contracts'
import { openAgentDatabase, writeSetting } from '#terminal-client/agent_store'
import { startTerminalAgent, type RunningAgent } from '#terminal-client/agent_runner'
import LineReaderSimulator from '#plugins/line_reader/simulator'
import { ModbusPeer } from '#tests/helpers/modbus_peer'
import { TcpProxy } from '#tests/helpers/tcp_proxy'
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

type Decided = PassageResult & { username?: string | null; score: number | null }

/**
 * The terminal agent against the real server: a video of people passing
 * as its camera, its own engine, a pymodbus relay board on a socat pty as
 * its gate, and faceIdentify or its synced database deciding.
 */
test.group('Terminal agent: end to end', (group) => {
  let peer: ModbusPeer
  let folder: string
  let running: RunningAgent | null
  let proxy: TcpProxy | null

  group.each.timeout(180_000)
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    peer = await ModbusPeer.rtu()
    folder = mkdtempSync(join(tmpdir(), 'agent-e2e-'))
    running = null
    proxy = null
    return async () => {
      await running?.stop()
      await proxy?.stop()
      await peer.stop()
      rmSync(folder, { recursive: true, force: true })
    }
  })

  /** A paired device with one enrolled person allowed through it. */
  async function site() {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.apply('consented')
      .merge({
        username: 'kaley.cuoco',
        displayName: 'Kaley Cuoco',
      })
      .create()
    await enrolPhotoOf(person, await readFile(fixture('kaley_cuoco_penny1.png')))
    await grant([person], [device])
    return { device, person }
  }

  function agentConfig(device: Device, video: string, overrides: Partial<Record<string, unknown>>) {
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
    const config: AgentConfig = parseAgentConfig(
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
        kiosk: { port: 0 },
        heartbeatSeconds: 5,
        onlineTimeoutMs: 5000,
        ...overrides,
      },
      folder
    )
    const db = openAgentDatabase(join(config.dataDir, 'agent.sqlite3'))
    writeSetting(db, 'credential', credentialOf(device).secret)
    db.close()
    return config
  }

  /** Waits until the agent's outbox is empty, saying what it last met when it does not empty. */
  async function drained(timeoutMs = 60_000) {
    try {
      await until(() => running!.outbox.health().backlog === 0, 'the backlog drains', timeoutMs)
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(running!.outbox.health())}`)
    }
  }

  async function run(config: AgentConfig) {
    const { plugins } = await import('#generated/plugins')
    running = await startTerminalAgent(config, { logger, plugins })
    const decided: Decided[] = []
    running.agent.on('decided', (result) => decided.push(result))
    return decided
  }

  const pulses = () =>
    peer.writes.filter((write) => write.table === 'co' && write.values[0] === 1).length

  test('online: the enrolled person opens the gate once, the stranger not; the server records both', async ({
    assert,
  }) => {
    const { device, person } = await site()
    const video = passagesClip(
      [fixture('kaley_cuoco_penny2.png'), fixture('kunal_nayyar_raj1.png')],
      join(folder, 'passages.mp4')
    )
    const decided = await run(agentConfig(device, video, {}))

    await until(() => decided.length === 2, 'both passages are decided')
    assert.deepInclude(decided[0], {
      decision: 'granted',
      reason: 'granted',
      username: 'kaley.cuoco',
      decidedBy: 'server',
    })
    assert.deepInclude(decided[1], {
      decision: 'denied',
      reason: 'unknown_face',
      decidedBy: 'server',
    })
    await until(() => pulses() === 1, 'the relay pulse')
    await wait(1500)
    assert.equal(pulses(), 1, 'one pulse for one passage, none for the stranger')

    const events = await AccessEvent.query().where('device_id', device.id).orderBy('id')
    assert.deepEqual(
      events.map((event) => [event.decision, event.reason, event.personId]),
      [
        ['granted', 'granted', person.id],
        ['denied', 'unknown_face', null],
      ]
    )
    assert.isTrue(
      events.every((event) => event.snapshotPath !== null),
      'each with its snapshot'
    )
    assert.equal(
      running!.outbox.health().backlog,
      0,
      'nothing for the outbox: the server recorded them'
    )

    const heartbeats = await app.container.make(DeviceHeartbeats)
    const beat = await until(async () => {
      const latest = await heartbeats.of([device.id])
      const view = latest.get(device.id)
      return view?.state.mode === 'online' ? view : null
    }, 'a heartbeat from the agent online')
    assert.include(beat.state, { mode: 'online', backlog: 0 })
    assert.deepEqual(beat.state.gate, { state: 'ok' })

    const commands = await app.container.make(DeviceCommands)
    await commands.queue({ userId: null, label: 'test', ip: null }, device, 'open_door')
    await until(() => pulses() === 2, 'the door opened from the Devices page')
    const [command] = await commands.recent(device.id)
    await until(
      async () => {
        const [latest] = await commands.recent(device.id)
        return latest.status === 'done'
      },
      'the command reported done',
      30_000
    )
    assert.equal(command.type, 'open_door')
  })

  test('offline: with the server gone the agent decides from its copy; every decision arrives once, in order', async ({
    assert,
  }) => {
    const { device, person } = await site()
    const url = new URL(serverUrl)
    proxy = await new TcpProxy({ host: url.hostname, port: Number(url.port) }).start()
    const video = passagesClip(
      [
        fixture('kaley_cuoco_penny2.png'),
        fixture('kunal_nayyar_raj1.png'),
        fixture('kaley_cuoco_penny4.png'),
      ],
      join(folder, 'passages.mp4')
    )
    const config = agentConfig(device, join(folder, 'none.mp4'), { serverUrl: proxy.url })
    const sync = await run({ ...config, camera: { ...config.camera, source: video } })

    await until(() => running!.sync!.revision !== null, 'the first sync', 30_000)
    await proxy.cut()
    await until(() => running!.agent.connection === 'offline' || sync.length > 0, 'offline')

    await until(() => sync.length === 3, 'three passages are decided')
    assert.deepEqual(
      sync.map((result) => [result.decision, result.reason, result.decidedBy]),
      [
        ['granted', 'granted', 'terminal'],
        ['denied', 'unknown_face', 'terminal'],
        ['granted', 'granted', 'terminal'],
      ]
    )
    await until(() => pulses() === 2, 'a pulse for each grant')
    assert.equal(running!.outbox.health().backlog, 3, 'all three wait for the server')
    assert.lengthOf(await AccessEvent.query().where('device_id', device.id), 0)

    await proxy.restore()
    await drained()
    const events = await AccessEvent.query().where('device_id', device.id).orderBy('id')
    assert.deepEqual(
      events.map((event) => [event.decision, event.reason, event.personId]),
      [
        ['granted', 'granted', person.id],
        ['denied', 'unknown_face', null],
        ['granted', 'granted', person.id],
      ]
    )
    assert.isTrue(
      events.every(
        (event, index) => index === 0 || event.occurredAt >= events[index - 1].occurredAt
      ),
      'in the order they happened'
    )
    assert.equal(new Set(events.map((event) => event.terminalEventId)).size, 3, 'each once')
  })

  test('a card-and-face door: the face with its card opens, the face alone does not', async ({
    assert,
  }) => {
    const { device, person } = await site()
    device.requiredFactors = 'face_card'
    await device.save()
    person.cardNumber = '04A1B2C3'
    await person.save()
    const reader = new LineReaderSimulator('hex')
    const readerConfig = await reader.start()
    try {
      const video = passagesClip(
        [fixture('kaley_cuoco_penny2.png'), fixture('kaley_cuoco_penny4.png')],
        join(folder, 'passages.mp4'),
        { leadSeconds: 6, gapSeconds: 3 }
      )
      const config = agentConfig(device, video, {
        door: { gate: 'gate', reader: 'reader', openMs: 800, cardWindowMs: 10_000 },
      })
      const entries = JSON.parse(await readFile(config.pluginsFile, 'utf8')) as unknown[]
      entries.push({ id: 'reader', plugin: 'line-reader', config: readerConfig })
      writeFileSync(config.pluginsFile, JSON.stringify(entries))
      const decided = await run(config)
      await until(() => running!.offline.requiredFactors === 'face_card', 'the rules are synced')
      await reader.presentCard('04a1b2c3')

      await until(() => decided.length === 2, 'both passages are decided')
      assert.deepEqual(
        decided.map((result) => [result.decision, result.reason, result.username]),
        [
          ['granted', 'granted', 'kaley.cuoco'],
          ['denied', 'not_authorized', 'kaley.cuoco'],
        ]
      )
      await wait(1000)
      assert.equal(pulses(), 1, 'the face alone opens nothing')
      const events = await AccessEvent.query().where('device_id', device.id).orderBy('id')
      assert.deepEqual(
        events.map((event) => [event.decision, event.method]),
        [
          ['granted', 'face_card'],
          ['denied', 'face'],
        ]
      )
    } finally {
      await running?.stop()
      running = null
      await reader.stop()
    }
  })

  test('a still photo held to the camera is refused where the door asks for liveness', async ({
    assert,
  }) => {
    const { device } = await site()
    const video = passagesClip([fixture('kaley_cuoco_penny2.png')], join(folder, 'photo.mp4'), {
      seconds: 7,
    })
    const decided = await run(agentConfig(device, video, { liveness: 'blink_or_turn' }))

    await until(() => decided.length === 1, 'the photo is decided')
    assert.deepInclude(decided[0], { decision: 'denied', reason: 'spoof' })
    await drained()
    const events = await AccessEvent.query().where('device_id', device.id)
    assert.deepEqual(
      events.map((event) => [event.decision, event.reason, event.personId]),
      [['denied', 'spoof', null]]
    )
    await wait(1000)
    assert.equal(pulses(), 0, 'the gate stays shut')
  })
})
