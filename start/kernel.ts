/*
|--------------------------------------------------------------------------
| HTTP kernel
|--------------------------------------------------------------------------
*/
import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

server.errorHandler(() => import('#exceptions/handler'))

/**
 * Runs on every request, routed or not.
 */
server.use([
  () => import('#middleware/container_bindings_middleware'),
  () => import('@adonisjs/static/static_middleware'),
  () => import('#middleware/terminal_body_digest_middleware'),
])

/**
 * Runs on every routed request: pages, the terminal protocol and the
 * health endpoint alike.
 */
router.use([() => import('@adonisjs/core/bodyparser_middleware')])

export const middleware = router.named({
  session: () => import('@adonisjs/session/session_middleware'),
  shield: () => import('@adonisjs/shield/shield_middleware'),
  initializeAuth: () => import('@adonisjs/auth/initialize_auth_middleware'),
  detectLocale: () => import('#middleware/detect_user_locale_middleware'),
  initializeBouncer: () => import('#middleware/initialize_bouncer_middleware'),
  auth: () => import('#middleware/auth_middleware'),
  guest: () => import('#middleware/guest_middleware'),
  multipart: () => import('#middleware/multipart_middleware'),
  transportSecurity: () => import('#middleware/transport_security_middleware'),
  privatePage: () => import('#middleware/private_page_middleware'),
})

/**
 * What the pages people use run through: session, CSRF and security
 * headers, the signed-in operator, language and permissions. Terminals
 * and monitoring do without, so that 65,536 devices calling every few
 * seconds create no sessions. A photo upload is read once the session
 * shows a signed-in operator, before CSRF, which needs its fields.
 */
export const pageMiddleware = () => [
  middleware.session(),
  middleware.initializeAuth(),
  middleware.multipart(),
  middleware.shield(),
  middleware.transportSecurity(),
  middleware.detectLocale(),
  middleware.initializeBouncer(),
]
