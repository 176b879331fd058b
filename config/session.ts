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
  store: env.get('SESSION_DRIVER'),
  stores: {
    cookie: stores.cookie(),
    redis: stores.redis({ connection: 'main' }),
  },
})
