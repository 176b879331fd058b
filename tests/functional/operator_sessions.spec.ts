import { test } from '@japa/runner'
import hash from '@adonisjs/core/services/hash'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import AuditLog from '#models/audit_log'
import User from '#models/user'
import { UserFactory } from '#database/factories/user_factory'
import { Visitor } from '#tests/helpers/visitor'

const password = 'correct horse battery staple'
const newPassword = 'a much longer passphrase'

test.group('Operator sessions end on the server', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('a copied session cookie is refused once its operator signed out', async ({ assert }) => {
    const operator = await UserFactory.create()
    const browser = new Visitor()
    await browser.signIn(operator.email)
    const copied = browser.copy()
    assert.isNull(await copied.sentFrom('/admin'), 'the copy works while the session lasts')

    await browser.signOut()

    assert.equal(await browser.sentFrom('/admin'), '/login')
    assert.equal(await copied.sentFrom('/admin'), '/login')
  })

  test('changing one’s own password ends the other sessions and keeps this one', async ({
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const laptop = new Visitor()
    const phone = new Visitor()
    await laptop.signIn(auditor.email)
    await phone.signIn(auditor.email)
    const copied = phone.copy()

    const changed = await laptop.submit('/admin/account', '/admin/account/password?_method=PUT', {
      currentPassword: password,
      password: newPassword,
      password_confirmation: newPassword,
    })
    assert.equal(changed.headers.get('location'), '/admin/account')

    assert.isNull(await laptop.sentFrom('/admin'), 'the session that changed it stays')
    assert.equal(await phone.sentFrom('/admin'), '/login')
    assert.equal(await copied.sentFrom('/admin'), '/login')
    await new Visitor().signIn(auditor.email, newPassword)
    const entry = await AuditLog.findByOrFail('action', 'account.password')
    assert.equal(entry.userId, auditor.id)
    assert.notInclude(JSON.stringify(entry.serialize()), newPassword)
  })

  test('an administrator’s new password or disabling ends the operator’s sessions', async ({
    client,
    assert,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    const operator = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const fields = {
      fullName: operator.fullName,
      email: operator.email,
      role: 'operator',
      locale: 'en',
    }

    const browser = new Visitor()
    await browser.signIn(operator.email)
    await client
      .put(`/admin/operators/${operator.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .form({ ...fields, password: newPassword, password_confirmation: newPassword })
      .redirects(0)
    assert.equal(await browser.sentFrom('/admin'), '/login')

    await browser.signIn(operator.email, newPassword)
    await client
      .put(`/admin/operators/${operator.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .form({ ...fields, disabled: '1' })
      .redirects(0)
    assert.equal(await browser.sentFrom('/admin'), '/login')
  })

  test('an administrator signs an operator out everywhere from the operator’s page', async ({
    client,
    assert,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    const operator = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const desk = new Visitor()
    const gate = new Visitor()
    await desk.signIn(operator.email)
    await gate.signIn(operator.email)

    const page = await client.get(`/admin/operators/${operator.id}/edit`).loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), 'data-test="sign-out-everywhere"')

    const response = await client
      .delete(`/admin/operators/${operator.id}/sessions`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', `/admin/operators/${operator.id}/edit`)
    response.assertFlashMessage('success', '2 sessions of Olga Operator were signed out.')

    assert.equal(await desk.sentFrom('/admin'), '/login')
    assert.equal(await gate.sentFrom('/admin'), '/login')
    const entry = await AuditLog.findByOrFail('action', 'operator.sign_out_everywhere')
    assert.equal(entry.subjectId, String(operator.id))
    assert.deepEqual(entry.after, { sessions: 2 })
  })

  test('only administrators sign others out everywhere', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const other = await UserFactory.create()
    const browser = new Visitor()
    await browser.signIn(other.email)

    const response = await client
      .delete(`/admin/operators/${other.id}/sessions`)
      .loginAs(operator)
      .withCsrfToken()
    response.assertStatus(403)
    assert.isNull(await browser.sentFrom('/admin'))
  })
})

test.group('Changing one’s own password', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('every role has an Account page with the form', async ({ client, assert }) => {
    for (const role of ['admin', 'operator', 'auditor'] as const) {
      const user = await UserFactory.merge({ role }).create()
      const page = await client.get('/admin/account').loginAs(user)
      page.assertStatus(200)
      assert.include(page.text(), 'data-test="change-password"')
      assert.include(page.text(), 'href="/admin/account"')
    }
  })

  test('a wrong current password is refused and changes nothing', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const response = await client
      .put('/admin/account/password')
      .loginAs(operator)
      .withCsrfToken()
      .form({
        currentPassword: 'not my password at all',
        password: newPassword,
        password_confirmation: newPassword,
      })
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/admin/account')
    response.assertFlashMessage('inputErrorsBag', {
      currentPassword: ['This is not your current password.'],
    })
    assert.notInclude(JSON.stringify(response.flashMessages()), 'not my password at all')

    const stored = await User.findOrFail(operator.id)
    assert.isTrue(await hash.verify(stored.password, password))
    assert.isNull(await AuditLog.findBy('action', 'account.password'))
  })

  test('a new password too short or not repeated is refused, without keeping what was typed', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const response = await client
      .put('/admin/account/password')
      .loginAs(operator)
      .withCsrfToken()
      .form({ currentPassword: password, password: 'short', password_confirmation: 'other' })
      .redirects(0)
    response.assertHeader('location', '/admin/account')
    assert.property(response.flashMessages().inputErrorsBag, 'password')
    assert.notInclude(JSON.stringify(response.flashMessages()), password)
    const stored = await User.findOrFail(operator.id)
    assert.isTrue(await hash.verify(stored.password, password))
  })
})

test.group('Unlocking an account', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('an administrator sees until when an account is locked and unlocks it', async ({
    client,
    assert,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    const operator = await UserFactory.merge({ email: 'target@example.com' }).create()
    for (let attempt = 0; attempt < 5; attempt++) {
      await client
        .post('/login')
        .withCsrfToken()
        .form({ email: 'target@example.com', password: `guess-${attempt}` })
        .redirects(0)
    }
    const refused = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'target@example.com', password })
      .redirects(0)
    assert.isUndefined(refused.session().auth_web)

    const list = await client.get('/admin/operators').loginAs(admin)
    const html = list.text()
    const until = html.match(/data-test="locked-until">Locked until (\d\d:\d\d)</)
    assert.isNotNull(until, 'the list says until when')
    assert.include(html, `action="/admin/operators/${operator.id}/unlock"`)

    const unlocked = await client
      .post(`/admin/operators/${operator.id}/unlock`)
      .loginAs(admin)
      .withCsrfToken()
      .redirects(0)
    unlocked.assertHeader('location', '/admin/operators')
    unlocked.assertFlashMessage(
      'success',
      `${operator.fullName} can sign in again from every address.`
    )

    const signedIn = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'target@example.com', password })
      .redirects(0)
    assert.equal(signedIn.session().auth_web, operator.id)
    const after = await client.get('/admin/operators').loginAs(admin)
    assert.notInclude(after.text(), 'data-test="locked-until"')
    const entry = await AuditLog.findByOrFail('action', 'operator.unlock')
    assert.equal(entry.userId, admin.id)
    assert.deepEqual(entry.after, { addresses: 1 })
  })

  test('operators and auditors cannot unlock accounts', async ({ client }) => {
    const target = await UserFactory.create()
    for (const role of ['operator', 'auditor'] as const) {
      const user = await UserFactory.merge({ role }).create()
      const response = await client
        .post(`/admin/operators/${target.id}/unlock`)
        .loginAs(user)
        .withCsrfToken()
      response.assertStatus(403)
    }
  })
})
