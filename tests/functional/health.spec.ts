import { test } from '@japa/runner'
import { HealthChecks } from '@adonisjs/core/health'
import { RedisCheck, RedisConnection } from '@adonisjs/redis'
import db from '@adonisjs/lucid/services/db'
import { healthChecks } from '#start/health'

test.group('Health endpoint', () => {
  test('reports the database and Redis as healthy without signing in', async ({
    client,
    assert,
  }) => {
    const response = await client.get('/health').accept('json')

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

    const response = await client.get('/health').accept('json')

    response.assertStatus(503)
    response.assertBodyContains({
      isHealthy: false,
      status: 'error',
      checks: [{ name: 'Redis health check (unreachable)', status: 'error' }],
    })
  })
})
