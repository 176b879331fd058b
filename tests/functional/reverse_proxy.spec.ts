import { Agent } from 'node:http'
import { test } from '@japa/runner'
import type { ApiRequest } from '@japa/api-client'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import { UserFactory } from '#database/factories/user_factory'

/**
 * `.env.test` trusts 127.0.0.1 as a reverse proxy (TRUSTED_PROXIES), where
 * the API client's requests come from. A request sent from 127.0.0.2
 * reaches the same server from a peer that is not trusted.
 */
const untrustedPeer = new Agent({ localAddress: '127.0.0.2' })

function fromUntrustedPeer(request: ApiRequest) {
  request.request.agent(untrustedPeer)
  return request
}

test.group('Behind a reverse proxy', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))
  group.teardown(() => untrustedPeer.destroy())

  test('operators behind a trusted proxy are throttled each on their own address', async ({
    client,
    assert,
  }) => {
    await UserFactory.merge({ email: 'second@example.com' }).create()
    const signIn = (clientAddress: string, email: string, password: string) =>
      client
        .post('/login')
        .header('X-Forwarded-For', clientAddress)
        .withCsrfToken()
        .form({ email, password })
        .redirects(0)

    for (let attempt = 0; attempt < 10; attempt++) {
      const refused = await signIn('203.0.113.10', `nobody-${attempt}@example.com`, 'guess')
      refused.assertStatus(302)
    }
    const throttled = await signIn('203.0.113.10', 'second@example.com', 'guess')
    throttled.assertStatus(429)

    const other = await signIn('203.0.113.20', 'second@example.com', 'correct horse battery staple')
    other.assertStatus(302)
    other.assertHeader('location', '/admin')
    assert.isDefined(other.session().auth_web)
  })

  test('a peer that is not a trusted proxy cannot choose its address', async ({ client }) => {
    await UserFactory.merge({ email: 'second@example.com' }).create()
    const signIn = (claimedAddress: string, email: string, password: string) =>
      fromUntrustedPeer(
        client
          .post('/login')
          .header('X-Forwarded-For', claimedAddress)
          .withCsrfToken()
          .form({ email, password })
          .redirects(0)
      )

    for (let attempt = 0; attempt < 10; attempt++) {
      const refused = await signIn(`198.51.100.${attempt}`, `nobody-${attempt}@example.com`, 'x')
      refused.assertStatus(302)
    }
    const throttled = await signIn(
      '198.51.100.99',
      'second@example.com',
      'correct horse battery staple'
    )
    throttled.assertStatus(429)
  })

  test('pages reached over https send HSTS; plain http and untrusted claims do not', async ({
    client,
  }) => {
    const overHttps = await client.get('/login').header('X-Forwarded-Proto', 'https')
    overHttps.assertStatus(200)
    overHttps.assertHeader('strict-transport-security', 'max-age=15552000')

    const plain = await client.get('/login')
    plain.assertHeaderMissing('strict-transport-security')

    const claimed = await fromUntrustedPeer(
      client.get('/login').header('X-Forwarded-Proto', 'https')
    )
    claimed.assertStatus(200)
    claimed.assertHeaderMissing('strict-transport-security')
  })
})

test.group('Signed-in pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('are neither cached nor named to other sites', async ({ client }) => {
    const user = await UserFactory.create()
    for (const path of ['/admin', '/admin/people', '/admin/devices']) {
      const page = await client.get(path).loginAs(user)
      page.assertStatus(200)
      page.assertHeader('cache-control', 'no-store')
      page.assertHeader('referrer-policy', 'same-origin')
    }
  })
})
