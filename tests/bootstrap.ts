import { createConnection } from 'node:net'
import { assert } from '@japa/assert'
import { apiClient } from '@japa/api-client'
import { chromium } from 'playwright'
import app from '@adonisjs/core/services/app'
import type { Config } from '@japa/runner/types'
import { pluginAdonisJS } from '@japa/plugin-adonisjs'
import { browserClient } from '@japa/browser-client'
import { sessionApiClient } from '@adonisjs/session/plugins/api_client'
import { sessionBrowserClient } from '@adonisjs/session/plugins/browser_client'
import { authApiClient } from '@adonisjs/auth/plugins/api_client'
import { authBrowserClient } from '@adonisjs/auth/plugins/browser_client'
import { shieldApiClient } from '@adonisjs/shield/plugins/api_client'
import testUtils from '@adonisjs/core/services/test_utils'
import env from '#start/env'
import { sessionsInConfiguredStore } from '#tests/helpers/session_store'

export const plugins: Config['plugins'] = [
  assert(),
  apiClient(),
  pluginAdonisJS(app),
  sessionApiClient(app),
  shieldApiClient(),
  authApiClient(app),
  browserClient({
    runInSuites: ['browser'],
    contextOptions: { locale: 'en-US' },
    launcher: (options) =>
      chromium.launch({
        ...options,
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      }),
  }),
  sessionBrowserClient(app),
  authBrowserClient(app),
  sessionsInConfiguredStore(app),
]

/**
 * Fails fast, with a hint, when the Redis the suite needs is not running.
 */
function assertRedisIsUp() {
  const host = env.get('REDIS_HOST')
  const port = env.get('REDIS_PORT')
  return new Promise<void>((resolve, reject) => {
    const socket = createConnection({ host, port })
    socket.setTimeout(1500)
    socket.once('connect', () => {
      socket.end()
      resolve()
    })
    const fail = () => {
      socket.destroy()
      reject(new Error(`Redis is not reachable on ${host}:${port}; run the tests with "npm test"`))
    }
    socket.once('timeout', fail)
    socket.once('error', fail)
  })
}

export const runnerHooks: Required<Pick<Config, 'setup' | 'teardown'>> = {
  setup: [assertRedisIsUp, () => testUtils.db().migrate()],
  teardown: [],
}

export const configureSuite: Config['configureSuite'] = (suite) => {
  if (['browser', 'functional'].includes(suite.name)) {
    return suite.setup(() => testUtils.httpServer().start())
  }
}
