import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import AuditLog from '#models/audit_log'
import { UserFactory } from '#database/factories/user_factory'
import { Visitor } from '#tests/helpers/visitor'

test.group('Sign-in', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('an operator signs in with the right password and out again', async ({ client, assert }) => {
    const user = await UserFactory.merge({ email: 'guard@example.com' }).create()

    const signIn = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'Guard@Example.com', password: 'correct horse battery staple' })
      .redirects(0)
    signIn.assertStatus(302)
    signIn.assertHeader('location', '/admin')
    assert.equal(signIn.session().auth_web, user.id)

    await user.refresh()
    assert.isNotNull(user.lastSignInAt)

    const signOut = await client.post('/logout').loginAs(user).withCsrfToken().redirects(0)
    signOut.assertStatus(302)
    signOut.assertHeader('location', '/login')
  })

  test('a wrong password is refused with a message and the email kept', async ({
    client,
    assert,
  }) => {
    await UserFactory.merge({ email: 'guard@example.com' }).create()
    const response = await client
      .post('/login')
      .withCsrfToken()
      .header('referer', '/login')
      .form({ email: 'guard@example.com', password: 'wrong' })
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
    response.assertFlashMessage('error', 'The email or password is not right.')
    assert.equal(response.flashMessages().email, 'guard@example.com')
    assert.isUndefined(response.session().auth_web)
  })

  test('a disabled account cannot sign in, and is signed out if already in', async ({
    client,
    assert,
  }) => {
    const user = await UserFactory.apply('disabled').merge({ email: 'gone@example.com' }).create()
    const response = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'gone@example.com', password: 'correct horse battery staple' })
      .redirects(0)
    response.assertFlashMessage('error', 'This account is disabled. Ask an administrator.')
    assert.isUndefined(response.session().auth_web)

    const page = await client.get('/admin').loginAs(user).redirects(0)
    page.assertStatus(302)
    page.assertHeader('location', '/login')
  })

  test('after five failed attempts the account is locked for that address', async ({
    client,
    assert,
  }) => {
    await UserFactory.merge({ email: 'target@example.com' }).create()
    for (let attempt = 0; attempt < 5; attempt++) {
      await client
        .post('/login')
        .withCsrfToken()
        .form({ email: 'target@example.com', password: `guess-${attempt}` })
        .redirects(0)
    }
    const locked = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'target@example.com', password: 'correct horse battery staple' })
      .redirects(0)
    locked.assertStatus(302)
    assert.isUndefined(locked.session().auth_web)
    assert.equal(locked.flashMessages().error, 'Too many failed attempts. Try again in 15 minutes.')
  })

  test('the lockout is said in minutes in Chinese too', async ({ client }) => {
    await UserFactory.merge({ email: 'target@example.com' }).create()
    for (let attempt = 0; attempt < 6; attempt++) {
      const response = await client
        .post('/login')
        .header('accept-language', 'zh-CN,zh;q=0.9')
        .withCsrfToken()
        .form({ email: 'target@example.com', password: `guess-${attempt}` })
        .redirects(0)
      if (attempt === 5) response.assertFlashMessage('error', '失败次数过多，请 15 分钟后再试。')
    }
  })

  test('a first visit to / goes to the sign-in page in the browser’s language, without an error', async ({
    assert,
  }) => {
    const visitor = new Visitor('zh-CN,zh;q=0.9,en;q=0.5')
    assert.equal(await visitor.sentFrom('/'), '/admin')
    assert.equal(await visitor.sentFrom('/admin'), '/login')
    const page = await visitor.get('/login')
    const html = await page.text()
    assert.equal(page.status, 200)
    assert.include(html, 'lang="zh-CN"')
    assert.include(html, '<h1>登录</h1>')
    assert.notInclude(html, 'class="flash error"')
    assert.notInclude(html, 'Unauthorized')
  })

  test('the form after a wrong password shows the email that was typed', async ({ assert }) => {
    await UserFactory.merge({ email: 'guard@example.com' }).create()
    const visitor = new Visitor()
    const refused = await visitor.submit('/login', '/login', {
      email: 'guard@example.com',
      password: 'wrong',
    })
    assert.match(refused.headers.get('location')!, /\/login$/)
    const page = await visitor.get('/login')
    const html = await page.text()
    assert.include(html, 'The email or password is not right.')
    assert.match(html, /name="email"\s+value="guard@example.com"/)
  })

  test('sign-ins and refused sign-ins are in the audit log with the address, never a password', async ({
    client,
    assert,
  }) => {
    const user = await UserFactory.merge({ email: 'guard@example.com' }).create()
    await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'guard@example.com', password: 'a wrong secret' })
      .redirects(0)
    await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'nobody@example.com', password: 'another wrong secret' })
      .redirects(0)
    await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'guard@example.com', password: 'correct horse battery staple' })
      .redirects(0)

    const failed = await AuditLog.query().where('action', 'session.sign_in_failed').orderBy('id')
    assert.deepEqual(
      failed.map((entry) => [entry.subjectId, entry.subjectLabel, entry.after, entry.ipAddress]),
      [
        [
          String(user.id),
          'guard@example.com',
          { email: 'guard@example.com', reason: 'invalid_credentials' },
          '127.0.0.1',
        ],
        [
          null,
          'nobody@example.com',
          { email: 'nobody@example.com', reason: 'invalid_credentials' },
          '127.0.0.1',
        ],
      ]
    )
    const signedIn = await AuditLog.findByOrFail('action', 'session.sign_in')
    assert.equal(signedIn.userId, user.id)
    assert.equal(signedIn.ipAddress, '127.0.0.1')
    const everything = JSON.stringify(await AuditLog.all())
    assert.notInclude(everything, 'wrong secret')
    assert.notInclude(everything, 'correct horse')
  })

  test('a sign-in without a CSRF token is refused', async ({ client, assert }) => {
    await UserFactory.merge({ email: 'guard@example.com' }).create()
    const response = await client
      .post('/login')
      .form({ email: 'guard@example.com', password: 'correct horse battery staple' })
      .redirects(0)
    assert.notEqual(response.status(), 200)
    assert.isUndefined(response.session().auth_web)
  })

  test('the language follows the operator and can be switched', async ({ client, assert }) => {
    const user = await UserFactory.create()
    const english = await client.get('/admin').loginAs(user)
    english.assertTextIncludes('Dashboard')

    await client.post('/admin/account/locale').loginAs(user).withCsrfToken().form({ locale: 'zh' })
    await user.refresh()
    assert.equal(user.locale, 'zh')

    const chinese = await client.get('/admin').loginAs(user)
    chinese.assertTextIncludes('概览')
    chinese.assertTextIncludes('lang="zh-CN"')
  })
})
