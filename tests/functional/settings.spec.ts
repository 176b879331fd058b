import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { Logger } from '@adonisjs/core/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import User, { type UserRole } from '#models/user'
import { defaultPluginTimeouts, definePlugin, lightOff, vine } from '#plugin-sdk'
import { PluginHost } from '#plugin-host/plugin_host'
import { PersonFactory } from '#database/factories/person_factory'
import { addFace } from '#tests/helpers/terminal'

function createUser(role: UserRole) {
  return User.create({
    email: `${role}@settings.test`,
    fullName: `Settings ${role}`,
    password: 'correct horse battery staple',
    role,
    locale: 'en',
  })
}

test.group('Settings page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an administrator sees the plugins and the state of each instance', async ({ client }) => {
    const admin = await createUser('admin')

    const response = await client.get('/admin/settings').loginAs(admin)

    response.assertStatus(200)
    response.assertTextIncludes('data-instance="lobby-light" data-state="running"')
    response.assertTextIncludes('Recording to the log')
    response.assertTextIncludes('data-plugin="log-light"')
    response.assertTextIncludes('<code>plugins/log_light</code>')
  })

  test('the page speaks Simplified Chinese to a Chinese-speaking administrator', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    admin.locale = 'zh'
    await admin.save()

    const response = await client.get('/admin/settings').loginAs(admin)

    response.assertTextIncludes('<h2 id="plugin-instances-title">插件实例</h2>')
    response.assertTextIncludes('<span class="badge badge-running">运行中</span>')
    assert.notInclude(response.text(), 'translation missing')
  })

  test('the identification section shows the gallery, the threshold in force and the FPIR', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')
    const empty = await client.get('/admin/settings').loginAs(admin)
    empty.assertTextIncludes('No face is enrolled yet.')

    const person = await PersonFactory.create()
    for (let seed = 1; seed <= 3; seed++) await addFace(person, { seed })
    await addFace(await PersonFactory.create(), { seed: 4 })
    const response = await client.get('/admin/settings').loginAs(admin)
    response.assertStatus(200)
    const row = response.text().match(/data-model="faceapi-recognition">([\s\S]*?)<\/tr>/)
    assert.exists(row, 'a row for the model of the enrolled faces')
    const faces = row![1].match(
      /data-test="identification-faces">\s*(\d+)\s*<p class="hint">([^<]*)<\/p>/
    )
    assert.exists(faces, 'the faces, and the people searched as a whole')
    assert.equal(faces![1], '4')
    assert.equal(faces![2], 'people with several faces, also searched as a whole: 1')
    assert.include(row![1], '<td>0.6000</td>')
    assert.include(row![1], '1:1 at 0.6')
    response.assertTextIncludes('at 1 %')
  })

  test('an administrator retrying a running instance is told there is nothing to retry', async ({
    client,
    assert,
  }) => {
    const admin = await createUser('admin')

    const response = await client
      .post('/admin/settings/plugins/lobby-light/retry')
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/settings')
    response.assertFlashMessage(
      'error',
      'lobby-light is not failing, so there is nothing to retry.'
    )
    assert.isNull(await AuditLog.findBy('action', 'plugin.retry'))
  })

  test('retrying an instance that does not exist is a 404', async ({ client }) => {
    const admin = await createUser('admin')

    const response = await client
      .post('/admin/settings/plugins/no-such-light/retry')
      .loginAs(admin)
      .withCsrfToken()

    response.assertStatus(404)
  })

  test('an auditor sees the page but may not retry', async ({ client }) => {
    const auditor = await createUser('auditor')

    const page = await client.get('/admin/settings').loginAs(auditor)
    page.assertStatus(200)
    page.assertTextIncludes('data-instance="lobby-light"')

    const retry = await client
      .post('/admin/settings/plugins/lobby-light/retry')
      .loginAs(auditor)
      .withCsrfToken()
    retry.assertStatus(403)
  })

  test('an operator may not open the page', async ({ client }) => {
    const operator = await createUser('operator')

    const response = await client.get('/admin/settings').loginAs(operator)

    response.assertStatus(403)
  })
})

test.group('Settings page with a failing plugin', (group) => {
  let host: PluginHost
  let lightAnswers: boolean

  /**
   * A host of its own, swapped into the container, with one light that
   * fails once and then waits for an operator.
   */
  group.each.setup(async () => {
    lightAnswers = false
    const flakyLight = definePlugin({
      id: 'flaky-light',
      kind: 'light',
      version: '0.1.0',
      config: vine.object({}),
      create: () => ({
        start: async () => {
          if (!lightAnswers) throw new Error('No answer on RS-485 address 7')
        },
        stop: async () => {},
        health: async () => ({ status: 'ok' as const }),
        set: async () => {},
        state: async () => lightOff,
      }),
    })
    host = new PluginHost(
      { flaky_light: async () => ({ default: flakyLight }) },
      {
        instances: {
          file: 'flaky.json',
          entries: [{ id: 'door-light', plugin: 'flaky-light' }],
          error: null,
        },
        supervision: {
          timeouts: defaultPluginTimeouts,
          healthIntervalMs: 60_000,
          backoff: { baseMs: 1_000, maxMs: 1_000 },
          maxFailures: 1,
        },
      },
      new Logger({ enabled: false, name: 'settings-test' })
    )
    await host.start()
    app.container.swap(PluginHost, () => host)
    return async () => {
      app.container.restore(PluginHost)
      await host.stop()
    }
  })
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an administrator sees the error and retries the instance', async ({ client, assert }) => {
    const admin = await createUser('admin')

    const page = await client.get('/admin/settings').loginAs(admin)
    page.assertTextIncludes('data-instance="door-light" data-state="waiting_for_operator"')
    page.assertTextIncludes('No answer on RS-485 address 7')
    page.assertTextIncludes('action="/admin/settings/plugins/door-light/retry"')

    lightAnswers = true
    const retry = await client
      .post('/admin/settings/plugins/door-light/retry')
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)

    retry.assertStatus(302)
    retry.assertFlashMessage('success', 'door-light is running again.')
    assert.equal(host.instance('door-light')!.state, 'running')
    const entry = await AuditLog.findByOrFail('action', 'plugin.retry')
    assert.equal(entry.subjectId, 'door-light')
    assert.deepEqual(entry.after, { state: 'running' })
  })

  test('an auditor sees the error but no retry button', async ({ client, assert }) => {
    const auditor = await createUser('auditor')

    const page = await client.get('/admin/settings').loginAs(auditor)

    page.assertTextIncludes('data-state="waiting_for_operator"')
    assert.notInclude(page.text(), '/admin/settings/plugins/door-light/retry')
  })
})
