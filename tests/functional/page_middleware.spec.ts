import { test } from '@japa/runner'

test.group('Sessions only where people sign in', () => {
  test('a terminal call and the health check set no cookie', async ({ client, assert }) => {
    const token = await client.post('/faces/api/token').form({ deviceName: 'x', sn: 'y' })
    assert.isUndefined(token.header('set-cookie'))
    const health = await client.get('/health')
    assert.isUndefined(health.header('set-cookie'))
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
