/*
|--------------------------------------------------------------------------
| Health checks
|--------------------------------------------------------------------------
|
| What GET /health reports. A site's monitoring polls it; the terminals do
| not.
|
*/
import { HealthChecks } from '@adonisjs/core/health'
import { DbCheck } from '@adonisjs/lucid/database'
import { RedisCheck } from '@adonisjs/redis'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import { PluginsHealthCheck } from '#plugin-host/health_check'

export const healthChecks = new HealthChecks().register([
  new DbCheck(db.connection()),
  new RedisCheck(redis.connection()),
  new PluginsHealthCheck(),
])
