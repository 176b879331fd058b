import { test } from '@japa/runner'
import { HealthChecks } from '@adonisjs/core/health'
import { RedisCheck, RedisConnection } from '@adonisjs/redis'
import db from '@adonisjs/lucid/services/db'
import { UserFactory } from '#database/factories/user_factory'
import env from '#start/env'
import { healthChecks } from '#start/health'

const monitoring = () => ({ authorization: `Bearer ${env.get('HEALTH_TOKEN')}` })

test.group('Health endpoint', () => {
  test('tells anyone up or down, and which check failed only with the monitoring token', async ({
    client,
    assert,
  }) => {
    const anonymous = await client.get('/health').accept('json')
    anonymous.assertStatus(200)
    assert.deepEqual(Object.keys(anonymous.body()).sort(), ['finishedAt', 'isHealthy', 'status'])
    const wrongToken = await client
      .get('/health')
      .header('authorization', 'Bearer not-the-token')
      .accept('json')
    assert.notProperty(wrongToken.body(), 'checks')

    const response = await client.get('/health').headers(monitoring()).accept('json')

    response.assertStatus(200)
    response.assertBodyContains({ isHealthy: true })
    const checks = response.body().checks as { name: string; status: string }[]
    const statusOf = (name: string) => checks.find((check) => check.name === name)?.status
    assert.equal(statusOf(`Database health check (${db.primaryConnectionName})`), 'ok')
    assert.equal(statusOf('Redis health check (main)'), 'ok')
    assert.notProperty(response.body(), 'debugInfo')
  })

  test('answers 503 when Redis does not answer', async ({ client, cleanup }) => {
    /**
     * A real Redis check against a port nothing listens on. The shared
     * checks keep pointing at the suite's Redis, which other tests need, so
     * only this request runs the failing set.
     */
    const unreachable = new RedisConnection('unreachable', {
      host: '127.0.0.1',
      port: 1,
      retryStrategy: () => 60_000,
    })
    const failing = new HealthChecks().register([new RedisCheck(unreachable)])
    const run = healthChecks.run
    healthChecks.run = () => failing.run()
    cleanup(async () => {
      healthChecks.run = run
      await unreachable.disconnect()
    })

    const anonymous = await client.get('/health').accept('json')
    anonymous.assertStatus(503)
    anonymous.assertBodyContains({ isHealthy: false })
    const response = await client.get('/health').headers(monitoring()).accept('json')

    response.assertStatus(503)
    response.assertBodyContains({
      isHealthy: false,
      status: 'error',
      checks: [{ name: 'Redis health check (unreachable)', status: 'error' }],
    })
  })

  test('a signed-in operator of any role reads the checks at /admin/health', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const response = await client.get('/admin/health').loginAs(auditor).accept('json')
    response.assertStatus(200)
    const checks = response.body().checks as { name: string; status: string }[]
    assert.include(
      checks.map((check) => check.name),
      'Redis health check (main)'
    )
    const signedOut = await client.get('/admin/health').redirects(0)
    assert.notEqual(signedOut.status(), 200)
  })
})
