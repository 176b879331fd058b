import type { ApplicationService } from '@adonisjs/core/types'
import type { PluginFn } from '@japa/runner/types'
import { configProvider } from '@adonisjs/core'
import { ApiRequest } from '@japa/api-client'
import { decoratorsCollection } from '@japa/browser-client'
import { SessionClient } from '@adonisjs/session/client'
import type { ResolvedSessionConfig, SessionStoreContract } from '@adonisjs/session/types'
import type User from '#models/user'

/**
 * Japa's session plugins write the sessions a test prepares (`loginAs`,
 * `withSession`, CSRF secrets) to the memory store, which only a server on
 * `SESSION_DRIVER=memory` reads. This plugin, registered after them, has
 * them use the store the server under test is configured with, so that the
 * tests exercise the same sessions as production (the `sessions` table).
 *
 * The store is made anew for each read and write, so that a database store
 * writes within the global transaction of the test running then. The browser
 * context's `loginAs` waits until the session is written before the test
 * visits a page.
 */
export function sessionsInConfiguredStore(app: ApplicationService): PluginFn {
  return async () => {
    const config = await configProvider.resolve<ResolvedSessionConfig>(
      app,
      app.config.get('session')
    )
    if (!config || config.store === 'cookie' || config.store === 'memory') return
    const current = () => config.stores[config.store](null as never, config)
    const store: SessionStoreContract = {
      read: (sessionId) => current().read(sessionId),
      write: (sessionId, values) => current().write(sessionId, values),
      destroy: (sessionId) => current().destroy(sessionId),
      touch: (sessionId) => current().touch(sessionId),
    }

    ApiRequest.getter('sessionClient', () => new SessionClient(store), true)

    const auth = await app.container.make('auth.manager')
    decoratorsCollection.register({
      context(context) {
        context.sessionClient = new SessionClient(store)
        context.loginAs = async (user: User) => {
          const client = auth.createAuthenticatorClient().use()
          const { session } = await client.authenticateAsClient(user)
          if (session) await context.setSession(session)
        }
      },
    })
  }
}
