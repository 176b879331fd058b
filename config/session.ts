import env from '#start/env'
import { defineConfig, stores } from '@adonisjs/session'
import { appUrl, isHttpsUrl } from '#config/app'

/**
 * The session cookie for a server people reach at `url`: never readable by
 * page scripts; Secure whenever the site is served over https, so that it
 * never crosses the network in the clear; SameSite=Lax, so that a link
 * into the admin pages (from a mail or a bookmark) arrives signed in while
 * a form posted from another site does not carry it (CSRF tokens guard
 * forms as well).
 */
export function sessionCookie(url: string) {
  return {
    path: '/',
    httpOnly: true,
    secure: isHttpsUrl(url),
    sameSite: 'lax' as const,
  }
}

export default defineConfig({
  enabled: true,
  cookieName: 'faceaccess-session',
  clearWithBrowser: false,
  age: '8h',
  cookie: sessionCookie(appUrl),
  /**
   * Where sessions live. `database` (the default) keeps them in the
   * `sessions` table: the cookie holds only an id, so signing out, a new
   * password or a disabled account ends every copy of a session, and pages
   * keep working while Redis is down. `redis` does the same for several
   * server processes that share a Redis. `cookie` keeps the whole session
   * in the browser, where the server cannot end it.
   */
  store: env.get('SESSION_DRIVER'),
  stores: {
    database: stores.database({ tableName: 'sessions' }),
    redis: stores.redis({ connection: 'main' }),
    cookie: stores.cookie(),
  },
})
