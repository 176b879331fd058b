import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import pluginsConfig from '#config/plugins'
import AuditLog from '#models/audit_log'
import User, { type UserRole } from '#models/user'
import { DeviceFactory } from '#database/factories/device_factory'
import { readInstancesFile } from '#plugin-host/instances_file'
import { PluginHost } from '#plugin-host/plugin_host'
import LineReaderSimulator from '#plugins/line_reader/simulator'
import LogLightSimulator from '#plugins/log_light/simulator'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { DoorService } from '#services/doors/door_service'
import { PluginChangeNotices } from '#services/plugins/plugin_change_notices'
import { ModbusPeer } from '#tests/helpers/modbus_peer'

const loaders = {
  modbus_gate: () => import('#plugins/modbus_gate/plugin'),
  line_reader: () => import('#plugins/line_reader/plugin'),
  log_light: () => import('#plugins/log_light/plugin'),
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(25)
  }
}

function createUser(role: UserRole) {
  return User.create({
    email: `${role}@plugin-settings.test`,
    fullName: `Plugins ${role}`,
    password: 'correct horse battery staple',
    role,
    locale: 'en',
  })
}

/** The form of a modbus-gate instance at the pymodbus slave, as a browser would post it. */
function gateForm(peer: ModbusPeer, overrides: Record<string, string> = {}) {
  return {
    'plugin': 'modbus-gate',
    'id': 'front-door',
    'enabled': '1',
    'config[bus]': JSON.stringify(peer.bus),
    'config[unitId]': '1',
    'config[timeoutMs]': '1000',
    'config[open]': '{"coil": 0}',
    'config[inputs][door][table]': 'discrete_inputs',
    'config[inputs][door][address]': '0',
    'config[inputs][pollMs]': '100',
    ...overrides,
  }
}

/**
 * Plugin instances managed from the Settings pages, over real components:
 * a plugins file in a folder of its own, a plugin host and door service
 * over it in the container's place, a pymodbus relay board on a socat pty,
 * a line reader on another pty and a log light.
 */
test.group('Settings: plugin instances', (group) => {
  let folder: string
  let file: string
  let host: PluginHost
  let doors: DoorService
  let peer: ModbusPeer
  let reader: LineReaderSimulator
  let lamp: LogLightSimulator

  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    folder = await mkdtemp(join(app.makePath('tmp'), 'plugin-settings-'))
    file = join(folder, 'plugins.json')
    peer = await ModbusPeer.rtu()
    reader = new LineReaderSimulator('hex')
    lamp = new LogLightSimulator()
    const entries = [
      {
        id: 'front-reader',
        plugin: 'line-reader',
        config: { ...(await reader.start()), repeatMs: 0 },
      },
      { id: 'front-lamp', plugin: 'log-light', config: await lamp.start() },
    ]
    await writeFile(file, JSON.stringify(entries, null, 2))
    host = new PluginHost(
      loaders,
      { ...pluginsConfig, instances: readInstancesFile(file, true) },
      logger
    )
    await host.start()
    doors = new DoorService(
      host,
      new AccessDecisionService(),
      await app.container.make(AccessEventRecorder),
      logger
    )
    doors.start()
    app.container.swap(PluginHost, () => host)
    app.container.swap(DoorService, () => doors)
    return async () => {
      app.container.restore(PluginHost)
      app.container.restore(DoorService)
      doors.stop()
      await host.stop()
      await reader.stop()
      await lamp.stop()
      await peer.stop()
      await rm(folder, { recursive: true, force: true })
    }
  })

  test('an administrator adds a Modbus gate through the form and pulses it', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    const form = await client.get('/admin/settings/plugins/new?plugin=modbus-gate').loginAs(admin)
    form.assertStatus(200)
    form.assertTextIncludes('name="config[unitId]"')
    form.assertTextIncludes('<option value="discrete_inputs"')
    form.assertTextIncludes('min="1" max="247"')

    const added = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer))
      .redirects(0)
    added.assertStatus(302)
    added.assertHeader('location', '/admin/settings/plugins/front-door')

    const saved = JSON.parse(await readFile(file, 'utf8'))
    assert.deepEqual(saved[2], {
      id: 'front-door',
      plugin: 'modbus-gate',
      enabled: true,
      config: {
        bus: peer.bus,
        unitId: 1,
        timeoutMs: 1000,
        open: { coil: 0 },
        inputs: { door: { table: 'discrete_inputs', address: 0 }, pollMs: 100 },
      },
    })
    const { mode } = await stat(file)
    assert.equal(mode & 0o777, 0o600, 'the file is its owner’s only')
    assert.lengthOf(JSON.parse(await readFile(`${file}.bak`, 'utf8')), 2, 'the previous file kept')
    assert.equal(host.instance('front-door', 'gate')?.state, 'running')
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')
    const created = await AuditLog.findByOrFail('action', 'plugin.create')
    assert.equal(created.subjectId, 'front-door')

    const pulsed = await client
      .post('/admin/settings/plugins/front-door/test/pulse')
      .loginAs(admin)
      .withCsrfToken()
    pulsed.assertStatus(200)
    pulsed.assertTextIncludes('data-test="test-answer"')
    pulsed.assertTextIncludes('&quot;durationMs&quot;: 5000')
    pulsed.assertTextIncludes('&quot;position&quot;: &quot;open&quot;')
    const [on, off] = await peer.waitFor(
      (writes) => {
        const pulse = writes.filter((write) => write.table === 'co').slice(1)
        return pulse.length === 2 && pulse
      },
      'the pulse',
      10_000
    )
    assert.deepEqual([on.address, on.values, off.values], [0, [1], [0]])
    assert.closeTo(off.at - on.at, 5000, 300)
    const tested = await AuditLog.findByOrFail('action', 'plugin.test')
    assert.deepInclude(tested.after!, { test: 'pulse' })
  })

  test('a config its schema refuses comes back with the field’s error and the file unchanged', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    const before = await readFile(file, 'utf8')

    const outOfRange = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer, { 'config[unitId]': '300' }))
    outOfRange.assertStatus(422)
    outOfRange.assertTextIncludes('data-test="error-unitId"')
    outOfRange.assertTextIncludes('The unitId field must be between 1 and 247')
    outOfRange.assertTextIncludes('value="300"')

    const badJson = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer, { 'config[bus]': '{serial: /dev/x' }))
    badJson.assertStatus(422)
    badJson.assertTextIncludes('data-test="error-bus"')
    badJson.assertTextIncludes('This is not valid JSON')

    const missing = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer, { 'config[open]': '{"register": 3}' }))
    missing.assertStatus(422)
    missing.assertTextIncludes('data-test="error-open"')
    missing.assertTextIncludes('value: The value field must be defined')

    const taken = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer, { id: 'front-lamp' }))
    taken.assertStatus(422)
    taken.assertTextIncludes('Another instance is already called front-lamp.')

    assert.equal(await readFile(file, 'utf8'), before)
    assert.isUndefined(host.instance('front-door'))
    assert.lengthOf(await AuditLog.findManyBy('action', 'plugin.create'), 0)
  })

  test('editing an instance restarts it with the new settings', async ({ client, assert }) => {
    const admin = await createUser('admin')
    const change = (form: Record<string, string>) =>
      client
        .put('/admin/settings/plugins/front-door')
        .loginAs(admin)
        .withCsrfToken()
        .form(form)
        .redirects(0)
    const added = await client
      .post('/admin/settings/plugins')
      .loginAs(admin)
      .withCsrfToken()
      .form(gateForm(peer))
      .redirects(0)
    added.assertStatus(302)
    const first = host.instance('front-door', 'gate')!
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')

    const edit = await client.get('/admin/settings/plugins/front-door').loginAs(admin)
    edit.assertTextIncludes('name="config[open]"')
    edit.assertTextIncludes('{&quot;coil&quot;:0}')

    const changed = await change(gateForm(peer, { 'config[open]': '{"coil": 3}' }))
    changed.assertStatus(302)
    const second = host.instance('front-door', 'gate')!
    assert.notStrictEqual(second, first, 'a new instance')
    assert.equal(first.state, 'stopped', 'the old one stopped')
    assert.equal(second.state, 'running')
    await peer.waitFor(
      (writes) => writes.some((write) => write.address === 3 && write.values[0] === 0),
      'the new relay switched off at start'
    )

    await host.instance('front-door', 'gate')!.use((gate) => gate.open({ durationMs: 200 }))
    await peer.waitFor(
      (writes) => writes.some((write) => write.address === 3 && write.values[0] === 1),
      'the new relay switched on'
    )
    assert.isFalse(
      peer.writes.slice(1).some((write) => write.address === 0 && write.values[0] === 1),
      'the old relay is left alone'
    )
    const update = await AuditLog.findByOrFail('action', 'plugin.update')
    assert.deepEqual((update.after!.config as { open: unknown }).open, { coil: 3 })
    assert.deepEqual((update.before!.config as { open: unknown }).open, { coil: 0 })

    const unchanged = host.instance('front-lamp')
    const switchedOff = await change(
      gateForm(peer, { 'config[open]': '{"coil": 3}', 'enabled': '' })
    )
    switchedOff.assertStatus(302)
    assert.equal(host.instance('front-door')!.state, 'disabled')
    assert.strictEqual(host.instance('front-lamp'), unchanged, 'other instances keep running')
  })

  test('an instance a device’s door names can be neither removed nor renamed', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    await DeviceFactory.apply('approved')
      .merge({
        name: 'Lobby east',
        config: { door: { gate: 'x', light: 'front-lamp', openSeconds: 2 } },
      })
      .create()
    await DeviceFactory.apply('approved')
      .merge({
        name: 'Lobby west',
        config: { door: { gate: 'x', light: 'front-lamp', openSeconds: 2 } },
      })
      .create()
    const before = await readFile(file, 'utf8')

    const page = await client.get('/admin/settings/plugins/front-lamp').loginAs(admin)
    page.assertTextIncludes('The door of Lobby east, Lobby west uses this instance.')

    const removed = await client
      .delete('/admin/settings/plugins/front-lamp')
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    removed.assertStatus(302)
    assert.equal(
      removed.flashMessages().error,
      "front-lamp cannot be removed or renamed: the door of Lobby east, Lobby west names it. Choose another instance on those devices' pages first."
    )

    const renamed = await client
      .put('/admin/settings/plugins/front-lamp')
      .loginAs(admin)
      .withCsrfToken()
      .form({ plugin: 'log-light', id: 'hall-lamp', enabled: '1' })
    renamed.assertStatus(422)
    renamed.assertTextIncludes('the door of Lobby east, Lobby west names it')
    assert.equal(await readFile(file, 'utf8'), before)
    assert.equal(host.instance('front-lamp')?.state, 'running')

    const free = await client
      .delete('/admin/settings/plugins/front-reader')
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    free.assertHeader('location', '/admin/settings')
    assert.isUndefined(host.instance('front-reader'))
    assert.notInclude(await readFile(file, 'utf8'), 'front-reader')
    const entry = await AuditLog.findByOrFail('action', 'plugin.remove')
    assert.equal(entry.before!.plugin, 'line-reader')
  })

  test('read inputs shows the door contact as read now', async ({ client, assert }) => {
    const admin = await createUser('admin')
    await client.post('/admin/settings/plugins').loginAs(admin).withCsrfToken().form(gateForm(peer))
    const readInputs = () =>
      client.post('/admin/settings/plugins/front-door/test/inputs').loginAs(admin).withCsrfToken()

    const closed = await readInputs()
    closed.assertTextIncludes(
      '&quot;door&quot;: {\n    &quot;active&quot;: false,\n    &quot;raw&quot;: 0'
    )
    closed.assertTextIncludes('&quot;exitButton&quot;: null')

    await peer.set('di', 1, 0, 1)
    const open = await readInputs()
    open.assertTextIncludes(
      '&quot;door&quot;: {\n    &quot;active&quot;: true,\n    &quot;raw&quot;: 1'
    )
    assert.lengthOf(await AuditLog.findManyBy('action', 'plugin.test'), 2)
  })

  test('read a card waits for the card held to the line reader and shows its UID', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    const answer = client
      .post('/admin/settings/plugins/front-reader/test/card')
      .loginAs(admin)
      .withCsrfToken()
      .then((response) => response)
    let done = false
    void answer.then(() => (done = true))
    while (!done) {
      await reader.presentCard('04a1b2c3')
      await wait(300)
    }
    const response = await answer
    response.assertTextIncludes('&quot;uid&quot;: &quot;04A1B2C3&quot;')
    const entry = await AuditLog.findByOrFail('action', 'plugin.test')
    assert.deepInclude(entry.after!, { test: 'card' })
  })

  test('light on and off switch the light and show its state', async ({ client, assert }) => {
    const admin = await createUser('admin')
    const on = await client
      .post('/admin/settings/plugins/front-lamp/test/on')
      .loginAs(admin)
      .withCsrfToken()
    on.assertTextIncludes('&quot;on&quot;: true')
    assert.include(await lamp.observedLight(), { on: true })

    const off = await client
      .post('/admin/settings/plugins/front-lamp/test/off')
      .loginAs(admin)
      .withCsrfToken()
    off.assertTextIncludes('&quot;on&quot;: false')
    assert.include(await lamp.observedLight(), { on: false })

    const wrongKind = await client
      .post('/admin/settings/plugins/front-lamp/test/pulse')
      .loginAs(admin)
      .withCsrfToken()
    wrongKind.assertStatus(404)
  })

  test('the manual Open door lights the device’s light while the door is open', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    await client.post('/admin/settings/plugins').loginAs(admin).withCsrfToken().form(gateForm(peer))
    const device = await DeviceFactory.apply('approved')
      .merge({ config: { door: { gate: 'front-door', light: 'front-lamp', openSeconds: 1 } } })
      .create()
    await peer.waitFor((writes) => writes.length === 1, 'the relay switched off at start')

    const opened = await client
      .post(`/admin/devices/${device.id}/door/open`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    opened.assertStatus(302)
    const switches = async () => {
      const records = await lamp.records()
      return records.map((record) => record.on)
    }
    const all = async () => {
      const seen = await switches()
      return seen.length === 3
    }
    await until(all, 'the light off again')
    assert.deepEqual(await switches(), [false, true, false])
    await peer.waitFor((writes) => writes.filter((write) => write.table === 'co').length === 3)
  })

  test('another process using the file follows the change', async ({ client, assert, cleanup }) => {
    const other = new PluginHost(
      loaders,
      { ...pluginsConfig, instances: readInstancesFile(file, true) },
      logger
    )
    await other.startKind('light')
    const unfollow = new PluginChangeNotices(file).follow(other)
    cleanup(async () => {
      await unfollow()
      await other.stop()
    })
    await wait(200)
    const before = other.instance('front-lamp')
    const admin = await createUser('admin')
    const lampConfig = JSON.parse(await readFile(file, 'utf8'))[1].config
    await client.put('/admin/settings/plugins/front-lamp').loginAs(admin).withCsrfToken().form({
      'plugin': 'log-light',
      'id': 'front-lamp',
      'enabled': '1',
      'config[label]': 'Hall',
      'config[file]': lampConfig.file,
    })
    const followed = () => {
      const lamp2 = other.instance('front-lamp')
      return lamp2 !== before && lamp2?.state === 'running'
    }
    await until(followed, 'the other process runs the changed light')
    assert.equal(
      other.instance('front-reader')?.state,
      'stopped',
      'kinds it does not run stay stopped'
    )
  })

  test('the Settings page links each instance, and lists a broken entry without a link', async ({
    client,
    assert,
  }) => {
    const entries = JSON.parse(await readFile(file, 'utf8'))
    await host.replaceEntries([...entries, { id: 'Front Door', plugin: 'nope' }, { plugin: 'x' }])
    const admin = await createUser('admin')
    const page = await client.get('/admin/settings').loginAs(admin)
    page.assertStatus(200)
    page.assertTextIncludes('href="/admin/settings/plugins/front-lamp"')
    page.assertTextIncludes('<code>Front Door</code>')
    page.assertTextIncludes('action="/admin/settings/plugins/new"')
    assert.notInclude(page.text(), 'href="/admin/settings/plugins/Front')
  })

  test('auditors see instances read-only; operators not at all', async ({ client, assert }) => {
    const auditor = await createUser('auditor')
    const page = await client.get('/admin/settings/plugins/front-lamp').loginAs(auditor)
    page.assertStatus(200)
    page.assertTextIncludes('readonly')
    assert.notInclude(page.text(), 'data-test="test-on"')
    assert.notInclude(page.text(), 'data-test="remove-instance"')

    const attempts = [
      client.get('/admin/settings/plugins/new?plugin=log-light').loginAs(auditor),
      client
        .post('/admin/settings/plugins')
        .loginAs(auditor)
        .withCsrfToken()
        .form({ plugin: 'log-light', id: 'x' }),
      client.post('/admin/settings/plugins/front-lamp/test/on').loginAs(auditor).withCsrfToken(),
      client.delete('/admin/settings/plugins/front-lamp').loginAs(auditor).withCsrfToken(),
    ]
    for (const attempt of attempts) {
      const response = await attempt
      response.assertStatus(403)
    }

    const operator = await createUser('operator')
    const operatorPage = await client.get('/admin/settings/plugins/front-lamp').loginAs(operator)
    operatorPage.assertStatus(403)
  })
})
