/*
|--------------------------------------------------------------------------
| Health endpoint
|--------------------------------------------------------------------------
|
| Open to anyone who can reach the server: 200 when the database, Redis and
| the plugins are well, 503 otherwise; the checks themselves only with the
| monitoring token (HEALTH_TOKEN). Signed-in operators read them at
| /admin/health.
|
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'

router.get('/health', [controllers.HealthChecks, 'show']).as('health')
