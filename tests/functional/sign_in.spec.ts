import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import { UserFactory } from '#database/factories/user_factory'

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
    assert.match(
      String(locked.flashMessages().error),
      /^Too many failed attempts\. Try again in \d+ seconds\.$/
    )
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
