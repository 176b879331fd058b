import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import doorsConfig from '#config/doors'
import pluginsConfig from '#config/plugins'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { PluginHost } from '#plugin-host/plugin_host'
import LineReaderSimulator from '#plugins/line_reader/simulator'
import LogLightSimulator from '#plugins/log_light/simulator'
import { UserFactory } from '#database/factories/user_factory'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { DoorService } from '#services/doors/door_service'
import { ModbusPeer } from '#tests/helpers/modbus_peer'
import { grant, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The events recorded at a device, oldest first. */
function eventsAt(device: Device) {
  return AccessEvent.query().where('device_id', device.id).orderBy('id')
}

async function eventCount(device: Device) {
  const events = await eventsAt(device)
  return events.length
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(20)
  }
}

async function enrol(client: ApiClient, device: Device, username: string, file: string) {
  const picture = await photo(file)
  const response = await post(
    client,
    'regFace',
    {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      username,
      faceName: username,
      picBase64: picture.toString('base64'),
    },
    'form',
    device
  )
  if (response.body().code !== 0) throw new Error(`not enrolled: ${response.text()}`)
  return Person.findByOrFail('username', username)
}

async function identify(client: ApiClient, device: Device, file: string) {
  const fields = { token: await tokenFor(client, device) }
  const response = await post(client, 'faceIdentify', fields, 'multipart', device, {
    image: { data: await photo(file), filename: file },
  })
  return response.body()
}

/**
 * The door at a terminal, end to end: a pymodbus relay board on a socat
 * pty as the gate, a line reader on another pty, faceIdentify on the real
 * engine, and the door service between them.
 */
test.group('Doors: faceIdentify opens the gate', (group) => {
  let peer: ModbusPeer
  let reader: LineReaderSimulator
  let lamp: LogLightSimulator
  let host: PluginHost

  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    peer = await ModbusPeer.rtu()
    reader = new LineReaderSimulator('hex')
    const readerConfig = await reader.start()
    lamp = new LogLightSimulator()
    const lampConfig = await lamp.start()
    host = new PluginHost(
      {
        modbus_gate: () => import('#plugins/modbus_gate/plugin'),
        line_reader: () => import('#plugins/line_reader/plugin'),
        log_light: () => import('#plugins/log_light/plugin'),
      },
      {
        ...pluginsConfig,
        instances: {
          file: 'doors.json',
          entries: [
            {
              id: 'front-door',
              plugin: 'modbus-gate',
              config: {
                bus: peer.bus,
                unitId: 1,
                timeoutMs: 1000,
                open: { coil: 0 },
                inputs: { door: { table: 'discrete_inputs', address: 0 }, pollMs: 100 },
              },
            },
            { id: 'front-reader', plugin: 'line-reader', config: readerConfig },
            { id: 'front-lamp', plugin: 'log-light', config: lampConfig },
          ],
          error: null,
        },
      },
      logger
    )
    await host.start()
    const doors = new DoorService(
      host,
      new AccessDecisionService(),
      await app.container.make(AccessEventRecorder),
      logger
    )
    doors.start()
    app.container.swap(DoorService, () => doors)
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')
    return async () => {
      app.container.restore(DoorService)
      doors.stop()
      await host.stop()
      await reader.stop()
      await lamp.stop()
      await peer.stop()
    }
  })

  const door = { gate: 'front-door', reader: 'front-reader', light: 'front-lamp', openSeconds: 1 }
  const pulses = () => peer.writesTo('co', 1, 0).slice(1)

  /** The device's Door setting names the gate and the reader, as its page would save it. */
  async function atTheDoor(device: Device, requiredFactors = device.requiredFactors) {
    device.config = { ...device.config, door }
    device.requiredFactors = requiredFactors
    await device.save()
    return device
  }

  test('an enrolled, authorised face pulses the relay; a stranger does not', async ({
    client,
    assert,
  }) => {
    const device = await atTheDoor(
      await DeviceFactory.apply('approved').apply('enrolling').create()
    )
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    await grant([person], [device])

    const granted = await identify(client, device, 'barack_obama_02.jpg')
    assert.include(granted, { code: 0, decision: 'granted' })
    const [on, off] = await peer.waitFor((writes) => {
      const pulse = writes.filter((write) => write.table === 'co').slice(1)
      return pulse.length === 2 && pulse
    }, 'the relay pulse')
    assert.deepEqual([on.values, off.values], [[1], [0]])
    assert.closeTo(off.at - on.at, 1000, 100)
    const lit = await lamp.records()
    assert.deepEqual(
      lit.map((record) => record.on),
      [false, true, false],
      'the light is on while the door is open'
    )

    const stranger = await identify(client, device, 'joe_biden_01.jpg')
    assert.include(stranger, { code: 0, decision: 'denied', reason: 'unknown_face' })
    await wait(500)
    assert.lengthOf(pulses(), 2, 'no pulse for a stranger')
  })

  test('a device with no gate, or someone not allowed, opens nothing', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').apply('enrolling').create()
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    await grant([person], [device])
    assert.include(await identify(client, device, 'barack_obama_02.jpg'), { decision: 'granted' })

    const elsewhere = await atTheDoor(await DeviceFactory.apply('approved').create())
    assert.include(await identify(client, elsewhere, 'barack_obama_02.jpg'), {
      decision: 'denied',
      reason: 'not_authorized',
    })
    await wait(500)
    assert.isEmpty(pulses())
  })

  test('card and face: the card read at the device goes with the next face', async ({
    client,
    assert,
  }) => {
    const device = await atTheDoor(
      await DeviceFactory.apply('approved').apply('enrolling').create(),
      'face_card'
    )
    const person = await enrol(client, device, 'barack.obama', 'barack_obama_01.jpg')
    person.cardNumber = '04A1B2C3'
    await person.save()
    await grant([person], [device])

    const withoutCard = await identify(client, device, 'barack_obama_02.jpg')
    assert.include(withoutCard, { decision: 'denied', reason: 'not_authorized' })

    await reader.presentCard('04a1b2c3')
    const doors = await app.container.make(DoorService)
    await until(() => doors.cardWaitsAt(device), 'the card waits for a face')
    const withCard = await identify(client, device, 'barack_obama_02.jpg')
    assert.include(withCard, { decision: 'granted', reason: 'granted' })
    const event = await AccessEvent.findOrFail(withCard.eventId)
    assert.equal(event.method, 'face_card')
    await peer.waitFor((writes) => writes.filter((write) => write.table === 'co').length === 3)

    const again = await identify(client, device, 'barack_obama_02.jpg')
    assert.include(again, { decision: 'denied' }, 'one card, one decision')

    const window = doorsConfig.cardWindowMs
    doorsConfig.cardWindowMs = 200
    try {
      await reader.presentCard('AABBCCDD')
      await wait(300)
      await reader.presentCard('04A1B2C3')
      await wait(400)
      const late = await identify(client, device, 'barack_obama_02.jpg')
      assert.include(late, { decision: 'denied' }, 'a card read too long ago does not count')
    } finally {
      doorsConfig.cardWindowMs = window
    }
  })

  test('a card alone at a card device: decided, recorded, and the door opens', async ({
    assert,
  }) => {
    const device = await atTheDoor(await DeviceFactory.apply('approved').create(), 'card')
    const person = await PersonFactory.merge({ cardNumber: '0A0B0C0D' }).create()
    await grant([person], [device])

    await reader.presentCard('0A0B0C0D')
    await until(async () => (await eventCount(device)) === 1, 'an event')
    await peer.waitFor((writes) => writes.filter((write) => write.table === 'co').length >= 2)
    await wait(1200)
    await reader.presentCard('DEADBEEF')
    await until(async () => (await eventCount(device)) === 2, 'a second event')

    const events = await eventsAt(device)
    assert.deepEqual(
      events.map(({ decision, reason, method, personId }) => ({
        decision,
        reason,
        method,
        personId,
      })),
      [
        { decision: 'granted', reason: 'granted', method: 'card', personId: person.id },
        { decision: 'denied', reason: 'unknown_card', method: 'card', personId: null },
      ]
    )
    assert.lengthOf(pulses(), 2, 'one opening')
  })

  test('the door forced open is an event of the device, on the Events page', async ({
    client,
    assert,
  }) => {
    const device = await atTheDoor(await DeviceFactory.apply('approved').create())
    await wait(300)
    await peer.set('di', 1, 0, 1)
    await until(async () => (await eventCount(device)) === 1, 'an event')
    const [event] = await eventsAt(device)
    assert.include(event.$attributes, {
      decision: 'alarm',
      reason: 'door_forced',
      method: 'door',
      personId: null,
    })
    const operator = await UserFactory.create()
    const page = await client.get('/admin/events?decision=alarm').loginAs(operator)
    page.assertTextIncludes('Door forced open')
    page.assertTextIncludes('data-decision="alarm"')
  })
})

test.group('Devices: the door names its reader and light', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a manager chooses them on the device page; only instances of their kind', async ({
    client,
    assert,
    cleanup,
  }) => {
    const reader = new LineReaderSimulator()
    const host = new PluginHost(
      {
        log_gate: () => import('#plugins/log_gate/plugin'),
        log_light: () => import('#plugins/log_light/plugin'),
        line_reader: () => import('#plugins/line_reader/plugin'),
      },
      {
        ...pluginsConfig,
        instances: {
          file: 'doors.json',
          entries: [
            { id: 'front-door', plugin: 'log-gate', config: {} },
            { id: 'front-lamp', plugin: 'log-light', config: {} },
            { id: 'front-reader', plugin: 'line-reader', config: await reader.start() },
          ],
          error: null,
        },
      },
      logger
    )
    await host.start()
    app.container.swap(PluginHost, () => host)
    cleanup(async () => {
      app.container.restore(PluginHost)
      await host.stop()
      await reader.stop()
    })
    const manager = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(manager)
    page.assertTextIncludes('<option value="front-reader" >front-reader</option>')
    page.assertTextIncludes('<option value="front-lamp" >front-lamp</option>')

    const save = (form: Record<string, string>) =>
      client
        .put(`/admin/devices/${device.id}/door`)
        .loginAs(manager)
        .withCsrfToken()
        .accept('json')
        .form({ gate: 'front-door', openSeconds: '4', ...form })
    const wrong = await save({ reader: 'front-lamp' })
    wrong.assertStatus(422)
    assert.deepEqual(wrong.body().errors, [
      {
        field: 'reader',
        message: 'front-lamp is not a reader instance in the plugins file.',
        rule: 'database',
      },
    ])
    const right = await save({ reader: 'front-reader', light: 'front-lamp' })
    assert.oneOf(right.status(), [200, 302])
    await device.refresh()
    assert.deepEqual(device.config?.door, {
      gate: 'front-door',
      openSeconds: 4,
      reader: 'front-reader',
      light: 'front-lamp',
    })
  })
})
