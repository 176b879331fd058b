/*
|--------------------------------------------------------------------------
| Health checks
|--------------------------------------------------------------------------
|
| What GET /health reports. A site's monitoring polls it; the terminals do
| not.
|
*/
import { BaseCheck, HealthChecks } from '@adonisjs/core/health'
import { DbCheck } from '@adonisjs/lucid/database'
import { RedisCheck } from '@adonisjs/redis'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import { PluginsHealthCheck } from '#plugin-host/health_check'

/**
 * The database check, on the client `db.connection()` gives when it runs:
 * inside a test's global transaction that is the transaction, which holds
 * SQLite's only connection.
 */
class DatabaseCheck extends BaseCheck {
  name = new DbCheck(db.connection()).name

  run() {
    return new DbCheck(db.connection()).run()
  }
}

/** Redis is reported failing at once while it is down (see config/redis.ts). */
export const healthChecks = new HealthChecks().register([
  new DatabaseCheck(),
  new RedisCheck(redis.connection()),
  new PluginsHealthCheck(),
])
