import env from '#start/env'
import { defineConfig } from '@adonisjs/core/http'
import { trustedProxies } from '#services/trusted_proxies'

/**
 * The app key signs cookies and URLs and encrypts data. Losing or changing
 * it signs everyone out and invalidates signed links.
 */
export const appKey = env.get('APP_KEY')

export const appUrl = env.get('APP_URL') ?? `http://${env.get('HOST')}:${env.get('PORT')}`

/**
 * Whether people reach the server over https (APP_URL), directly or through
 * a reverse proxy: then cookies are Secure and pages send HSTS.
 */
export function isHttpsUrl(url: string) {
  return /^https:\/\//i.test(url)
}

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: true,
  useAsyncLocalStorage: false,
  /**
   * Only the reverse proxies listed in TRUSTED_PROXIES may say, with
   * X-Forwarded-For and X-Forwarded-Proto, who the client is and whether
   * it came over https; anyone else's headers are ignored.
   */
  trustProxy: trustedProxies(env.get('TRUSTED_PROXIES')),
  cookie: {
    domain: '',
    path: '/',
    maxAge: '2h',
    httpOnly: true,
    secure: isHttpsUrl(appUrl),
    sameSite: 'lax',
  },
})
