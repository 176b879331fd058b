/*
|--------------------------------------------------------------------------
| Environment variables service
|--------------------------------------------------------------------------
|
| Every key the app reads is validated here. A value already set in the
| process environment wins over the one in ".env", so two instances can run
| side by side on other ports and database files.
|
*/
import { Env } from '@adonisjs/core/env'
import { IANAZone } from 'luxon'

/** A number of whole days between 1 and 100 years, or unset for the default. */
function retentionDays(name: string, value?: string) {
  if (!value) return undefined
  const days = Number(value)
  if (!Number.isInteger(days) || days < 1 || days > 36_500) {
    throw new Error(`${name} must be a whole number of days from 1 to 36500, not "${value}"`)
  }
  return days
}

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  APP_KEY: Env.schema.secret(),
  APP_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  /*
  | A production server refuses a plain http:// APP_URL unless this is true
  | (start/production_check.ts)
  */
  ALLOW_PLAIN_HTTP: Env.schema.boolean.optional(),
  /*
  | Monitoring's token: /health tells anyone up or down, and which check
  | failed only to requests with "Authorization: Bearer <HEALTH_TOKEN>"
  */
  HEALTH_TOKEN: Env.schema.string.optional(),
  HOST: Env.schema.string({ format: 'host' }),
  /*
  | Reverse proxies whose X-Forwarded-For/-Proto are believed: addresses or
  | subnets, separated by commas (config/app.ts)
  */
  TRUSTED_PROXIES: Env.schema.string.optional(),
  /*
  | Serve https directly, without a proxy: PEM certificate (chain) and key
  | (start/http_server.ts)
  */
  TLS_CERT_FILE: Env.schema.string.optional(),
  TLS_KEY_FILE: Env.schema.string.optional(),
  LOG_LEVEL: Env.schema.string(),
  /*
  | The site's time zone (IANA name): pages, exports and schedules use it
  | (config/site.ts); empty means the server's
  */
  SITE_TIME_ZONE: (name: string, value?: string) => {
    if (!value) return undefined
    if (!IANAZone.isValidZone(value)) {
      throw new Error(`${name} must be an IANA time zone such as Asia/Shanghai, not "${value}"`)
    }
    return value
  },

  /*
  | Session store: database (default), redis, cookie or memory (config/session.ts)
  */
  SESSION_DRIVER: Env.schema.enum(['database', 'redis', 'cookie', 'memory'] as const),

  /*
  | Database: "sqlite" (default, file under tmp/) or "pg"
  */
  DB_CONNECTION: Env.schema.enum.optional(['sqlite', 'pg'] as const),
  DB_FILE: Env.schema.string.optional(),
  PG_HOST: Env.schema.string.optional({ format: 'host' }),
  PG_PORT: Env.schema.number.optional(),
  PG_USER: Env.schema.string.optional(),
  PG_PASSWORD: Env.schema.string.optional(),
  PG_DB_NAME: Env.schema.string.optional(),

  /*
  | Redis: queues, device tokens, presence, rate limits, pub/sub
  */
  REDIS_HOST: Env.schema.string({ format: 'host' }),
  REDIS_PORT: Env.schema.number(),
  REDIS_PASSWORD: Env.schema.string.optional(),
  REDIS_DB: Env.schema.number.optional(),

  /*
  | Background jobs: run a worker inside the web process
  */
  QUEUE_WORKER: Env.schema.boolean.optional(),
  /*
  | Device sync (config/terminal.ts): how long /faces/api/syncEvents waits for
  | a change, and after how many minutes behind a device is flagged
  */
  DEVICE_SYNC_WAIT_SECONDS: Env.schema.number.optional(),
  DEVICE_SYNC_ALERT_MINUTES: Env.schema.number.optional(),
  /*
  | Video registration (config/video.ts): upload limits, frames sampled per
  | second and how many of the best frames are enrolled
  */
  VIDEO_MAX_MB: Env.schema.number.optional(),
  VIDEO_MAX_SECONDS: Env.schema.number.optional(),
  VIDEO_SAMPLE_FPS: Env.schema.number.optional(),
  VIDEO_ENROL_FRAMES: Env.schema.number.optional(),
  /*
  | Retention (config/retention.ts): access events, their snapshots, and the
  | biometric data of people inactive this many days
  */
  EVENT_RETENTION_DAYS: retentionDays,
  SNAPSHOT_RETENTION_DAYS: retentionDays,
  BIOMETRIC_RETENTION_DAYS: retentionDays,

  /*
  | Rate limits
  */
  LIMITER_STORE: Env.schema.enum(['redis', 'memory'] as const),

  /*
  | Encrypts backups ("node ace backup:create"); keep a copy away from this
  | machine (config/backup.ts)
  */
  BACKUP_KEY: Env.schema.string.optional(),

  /*
  | The first administrator, made by "node ace db:seed" when there is none
  */
  ADMIN_EMAIL: Env.schema.string.optional({ format: 'email' }),
  ADMIN_PASSWORD: Env.schema.string.optional(),

  /*
  | Plugins: path to the JSON file listing configured plugin instances
  */
  PLUGINS_FILE: Env.schema.string.optional(),

  /*
  | Terminal protocol (/faces/api): device tokens, presence, uploads
  */
  DEVICE_TOKEN_TTL: Env.schema.number.optional(),
  DEVICE_TOKEN_SINGLE_USE: Env.schema.boolean.optional(),
  DEVICE_TOKEN_RATE_PER_ADDRESS: Env.schema.number.optional(),
  DEVICE_SIGNATURE_MAX_SKEW: Env.schema.number.optional(),
  DEVICE_RATE_PER_DEVICE: Env.schema.number.optional(),
  DEVICE_REFUSED_RATE_PER_ADDRESS: Env.schema.number.optional(),
  DEVICE_PENDING_PER_ADDRESS: Env.schema.number.optional(),
  DEVICE_PENDING_MAX: Env.schema.number.optional(),
  DEVICE_PRESENCE_FLUSH_SECONDS: Env.schema.number.optional(),
  DEVICE_ONLINE_SECONDS: Env.schema.number.optional(),
  FACE_PICTURE_URL_TTL: Env.schema.number.optional(),
  TERMINAL_IMAGE_MAX_BYTES: Env.schema.number.optional(),
  TERMINAL_IMAGE_MAX_PIXELS: Env.schema.number.optional(),
  IMAGE_DECODE_BUDGET_PIXELS: Env.schema.number.optional(),
  STORAGE_DIR: Env.schema.string.optional(),
  REGFACE_ACCESS_GROUP: Env.schema.string.optional(),
  IDENTIFY_TARGET_FPIR: Env.schema.number.optional(),
  IDENTIFY_MARGIN: Env.schema.number.optional(),
})
