import { test } from '@japa/runner'
import { productionProblems, type ProductionSettings } from '#start/production_check'

const safe: ProductionSettings = {
  NODE_ENV: 'production',
  APP_KEY: 'k'.repeat(32),
  APP_URL: 'https://access.example.org',
}

test.group('Production check', () => {
  test('a build in production with a long key and an https address may serve', ({ assert }) => {
    assert.deepEqual(productionProblems(safe, { built: true }), [])
  })

  test('a server from source in development or test mode is not checked', ({ assert }) => {
    for (const NODE_ENV of ['development', 'test']) {
      const settings = { NODE_ENV, APP_KEY: 'short', APP_URL: 'http://localhost:3333' }
      assert.deepEqual(productionProblems(settings, { built: false }), [])
    }
  })

  test('a build outside production mode is refused, and its other settings checked too', ({
    assert,
  }) => {
    const problems = productionProblems(
      { NODE_ENV: 'development', APP_KEY: 'short', APP_URL: 'https://access.example.org' },
      { built: true }
    )
    assert.lengthOf(problems, 2)
    assert.match(problems[0], /^NODE_ENV is "development".*set NODE_ENV=production/)
    assert.match(problems[1], /^APP_KEY has 5 characters/)
  })

  test('an APP_KEY of {length} characters is {verdict}')
    .with([
      { length: 0, verdict: 'refused' },
      { length: 31, verdict: 'refused' },
      { length: 32, verdict: 'accepted' },
    ])
    .run(({ assert }, { length, verdict }) => {
      const problems = productionProblems({ ...safe, APP_KEY: 'k'.repeat(length) }, { built: true })
      if (verdict === 'accepted') {
        assert.deepEqual(problems, [])
      } else {
        assert.lengthOf(problems, 1)
        assert.include(problems[0], `APP_KEY has ${length} characters`)
        assert.include(problems[0], 'node ace generate:key --show')
      }
    })

  test('spaces around the key do not count towards its length', ({ assert }) => {
    const problems = productionProblems(
      { ...safe, APP_KEY: ` ${'k'.repeat(30)} ` },
      { built: true }
    )
    assert.match(problems[0], /^APP_KEY has 30 characters/)
  })

  test('production mode is checked from source as well', ({ assert }) => {
    const problems = productionProblems({ ...safe, APP_KEY: '' }, { built: false })
    assert.match(problems[0], /^APP_KEY has 0 characters/)
  })

  test('a missing APP_URL is refused', ({ assert }) => {
    const problems = productionProblems({ ...safe, APP_URL: undefined }, { built: true })
    assert.lengthOf(problems, 1)
    assert.match(problems[0], /^APP_URL is not set/)
  })

  test('a plain http APP_URL is refused unless ALLOW_PLAIN_HTTP is true', ({ assert }) => {
    const plain = { ...safe, APP_URL: 'HTTP://10.0.0.5:3333' }
    const refused = productionProblems(plain, { built: true })
    assert.lengthOf(refused, 1)
    assert.match(refused[0], /^APP_URL is HTTP:\/\/10\.0\.0\.5:3333, plain http/)
    assert.include(refused[0], 'ALLOW_PLAIN_HTTP=true')
    assert.deepEqual(
      productionProblems({ ...plain, ALLOW_PLAIN_HTTP: false }, { built: true }),
      refused
    )
    assert.deepEqual(productionProblems({ ...plain, ALLOW_PLAIN_HTTP: true }, { built: true }), [])
  })

  test('a plain http APP_URL is refused when the server serves https itself', ({ assert }) => {
    const direct = { ...safe, TLS_CERT_FILE: '/etc/faceaccess/site.crt' }
    assert.deepEqual(productionProblems(direct, { built: true }), [])
    const problems = productionProblems(
      { ...direct, APP_URL: 'http://access.example.org', ALLOW_PLAIN_HTTP: true },
      { built: true }
    )
    assert.lengthOf(problems, 1)
    assert.match(
      problems[0],
      /^APP_URL is http:\/\/access\.example\.org, but the server serves https/
    )
  })
})
