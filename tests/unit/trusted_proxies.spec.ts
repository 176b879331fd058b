import { test } from '@japa/runner'
import { trustedProxies } from '#services/trusted_proxies'
import { sessionCookie } from '#config/session'

test.group('Trusted proxies', () => {
  test('trusts the listed addresses and subnets and nobody else', ({ assert }) => {
    const trusts = trustedProxies(' 127.0.0.1, ::1,10.0.0.0/24 ')
    assert.isTrue(trusts('127.0.0.1'))
    assert.isTrue(trusts('::ffff:127.0.0.1'))
    assert.isTrue(trusts('::1'))
    assert.isTrue(trusts('10.0.0.2'))
    assert.isTrue(trusts('::ffff:10.0.0.254'))
    assert.isFalse(trusts('10.0.1.2'))
    assert.isFalse(trusts('127.0.0.2'))
    assert.isFalse(trusts('192.168.1.1'))
    assert.isFalse(trusts(undefined))
  })

  test('an empty list trusts nobody', ({ assert }) => {
    for (const list of [undefined, '', ' , ']) {
      assert.isFalse(trustedProxies(list)('127.0.0.1'))
    }
  })

  test('refuses "{entry}" with what is expected')
    .with([
      { entry: 'proxy.local' },
      { entry: '10.0.0.0/33' },
      { entry: '10.0.0.1/x' },
      { entry: 'loopback' },
    ])
    .run(({ assert }, { entry }) => {
      assert.throws(
        () => trustedProxies(`127.0.0.1,${entry}`),
        `TRUSTED_PROXIES: "${entry}" is not an IP address or a subnet (such as 10.0.0.0/24); list the reverse proxies' addresses, separated by commas`
      )
    })
})

test.group('Session cookie', () => {
  test('is Secure whenever the site is served over https', ({ assert }) => {
    assert.deepEqual(sessionCookie('https://access.example.org'), {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
    })
    assert.isTrue(sessionCookie('HTTPS://10.0.0.5:8443').secure)
    assert.isFalse(sessionCookie('http://10.0.0.5:3333').secure)
    assert.isTrue(sessionCookie('http://10.0.0.5:3333').httpOnly)
  })
})
