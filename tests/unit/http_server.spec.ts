import { request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { Server as HttpsServer } from 'node:https'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { createNodeServer } from '#start/http_server'

/**
 * A self-signed certificate for 127.0.0.1, made for these tests only
 * (openssl req -x509, prime256v1, 100 years).
 */
const certFile = app.makePath('tests/fixtures/tls/test-only.crt')
const keyFile = app.makePath('tests/fixtures/tls/test-only.key')

test.group('The server bin/server.ts listens with', () => {
  test('serves https when TLS_CERT_FILE and TLS_KEY_FILE are set', async ({ assert, cleanup }) => {
    const server = createNodeServer((_, response) => response.end('over tls'), {
      certFile,
      keyFile,
    })
    assert.instanceOf(server, HttpsServer)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())))

    const { port } = server.address() as AddressInfo
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, ca: readFileSync(certFile) }, (response) => {
        let text = ''
        response.on('data', (chunk) => (text += chunk))
        response.on('end', () => resolve(text))
      })
        .on('error', reject)
        .end()
    })
    assert.equal(body, 'over tls')
  })

  test('serves plain http without them', ({ assert }) => {
    const server = createNodeServer(() => {}, {})
    assert.notInstanceOf(server, HttpsServer)
  })

  test('refuses one file without the other, or a file it cannot read', ({ assert }) => {
    assert.throws(
      () => createNodeServer(() => {}, { certFile }),
      /^TLS_CERT_FILE is set without TLS_KEY_FILE: set both/
    )
    assert.throws(
      () => createNodeServer(() => {}, { certFile, keyFile: '/nonexistent/site.key' }),
      "TLS_KEY_FILE=/nonexistent/site.key cannot be read (ENOENT): the server's account must be able to read it."
    )
  })
})
