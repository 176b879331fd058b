import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'

test.group('Sessions only where people sign in', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a terminal call sets no cookie', async ({ client, assert }) => {
    const token = await client.post('/faces/api/token').form({ deviceName: 'x', sn: 'y' })
    assert.isUndefined(token.header('set-cookie'))
  })

  test('the sign-in page starts a session and carries the security headers', async ({
    client,
    assert,
  }) => {
    const page = await client.get('/login')
    page.assertStatus(200)
    assert.match(String(page.header('set-cookie')), /faceaccess-session=/)
    page.assertHeader('x-frame-options', 'DENY')
  })
})

/**
 * Outside a global transaction: the health check's own database query
 * would wait for it.
 */
test.group('Sessions only where people sign in: monitoring', () => {
  test('the health check sets no cookie', async ({ client, assert }) => {
    const health = await client.get('/health')
    assert.isUndefined(health.header('set-cookie'))
  })
})
