/*
|--------------------------------------------------------------------------
| Health endpoint
|--------------------------------------------------------------------------
|
| Open to anyone who can reach the server: 200 when the database and Redis
| answer, 503 otherwise.
|
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'

router.get('/health', [controllers.HealthChecks, 'show']).as('health')
