import { defineConfig } from '@adonisjs/shield'

export default defineConfig({
  csp: {
    enabled: true,
    directives: {
      defaultSrc: [`'self'`],
      scriptSrc: [`'self'`, '@nonce'],
      styleSrc: [`'self'`],
      imgSrc: [`'self'`, 'data:', 'blob:'],
      connectSrc: [`'self'`],
      frameAncestors: [`'none'`],
      formAction: [`'self'`],
    },
    reportOnly: false,
  },

  /**
   * Terminals (/faces/api) and integrators (/api) authenticate with tokens
   * and API keys, not cookies, so CSRF does not apply to them.
   */
  csrf: {
    enabled: true,
    exceptRoutes: (ctx) => {
      const url = ctx.request.url()
      return url.startsWith('/faces/api/') || url.startsWith('/api/')
    },
    enableXsrfCookie: false,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  },

  xFrame: { enabled: true, action: 'DENY' },
  /**
   * Strict-Transport-Security depends on how each request arrived (over
   * https directly, through a trusted proxy, or APP_URL is https), which
   * shield's fixed setting cannot tell: #middleware/transport_security_middleware
   * sends it.
   */
  hsts: { enabled: false },
  contentTypeSniffing: { enabled: true },
})
