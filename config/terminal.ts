import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defaultMargin } from '#faces/open_set_identification'

/**
 * The database this process serves. Redis keys and channels of the terminal
 * protocol are scoped by it, so that two sites (or two test runs) sharing
 * one Redis never accept each other's tokens, whose device ids overlap.
 */
const database =
  env.get('DB_CONNECTION', 'sqlite') === 'pg'
    ? `pg:${env.get('PG_HOST', '127.0.0.1')}:${env.get('PG_PORT', 5432)}/${env.get('PG_DB_NAME', 'faceaccess')}`
    : `sqlite:${env.get('DB_FILE', 'db.sqlite3')}`

const keyspace = `terminal:${createHash('sha256').update(database).digest('hex').slice(0, 12)}`

/**
 * Pub/sub channels are not covered by the Redis connection's key prefix,
 * so their names carry the environment as well as the site.
 */
const channelPrefix = `faceaccess:${env.get('NODE_ENV')}:${keyspace}`

const terminalConfig = {
  keyspace,

  /** Gallery changes, announced to every process that keeps a copy of the gallery. */
  galleryChannel: `${channelPrefix}:gallery`,

  /** Recorded access events, announced to every process that serves the admin pages. */
  accessEventsChannel: `${channelPrefix}:access-events`,

  /** "Revision N is available", announced by the sync job to every process holding syncEvents calls. */
  deviceSyncChannel: `${channelPrefix}:device-sync`,

  tokens: {
    /** Seconds a token stays valid after it was issued. */
    ttlSeconds: env.get('DEVICE_TOKEN_TTL', 300),
    /**
     * The original protocol: "every time you post to server need to get a
     * new token". Sites with slow links may let a token serve until expiry.
     */
    singleUse: env.get('DEVICE_TOKEN_SINGLE_USE', true),
    /**
     * Token requests a minute per address, counted before anything else;
     * a NAT may front many terminals.
     */
    perAddressPerMinute: env.get('DEVICE_TOKEN_RATE_PER_ADDRESS', 6000),
  },

  auth: {
    /**
     * Seconds a signed call's timestamp may differ from the server's clock.
     * Nonces are remembered for twice as long, so a call cannot be replayed.
     */
    maxSkewSeconds: env.get('DEVICE_SIGNATURE_MAX_SKEW', 300),
    /**
     * Calls a minute of one authenticated device, every endpoint counted. A
     * busy door (token, faceIdentify, token, clinetFeedback twice a second)
     * makes 480.
     */
    perDevicePerMinute: env.get('DEVICE_RATE_PER_DEVICE', 600),
    /**
     * The window the per-minute rates are counted in; a shorter one scales
     * them down with it (the busy-door test runs minutes in seconds).
     */
    rateWindowSeconds: 60,
    /** Refused calls a minute from one address before it is answered 8 instead. */
    refusedPerAddressPerMinute: env.get('DEVICE_REFUSED_RATE_PER_ADDRESS', 30),
    /** Pending devices that first called from one address, and in all. */
    pendingPerAddress: env.get('DEVICE_PENDING_PER_ADDRESS', 20),
    pendingTotal: env.get('DEVICE_PENDING_MAX', 500),
  },

  /**
   * faceIdentify's 1:N decision: the false-positive identification rate
   * to hold whatever the number of enrolled faces (a device may set its
   * own), and how far the best person must lead the next one.
   */
  identification: {
    targetFpir: env.get('IDENTIFY_TARGET_FPIR', 0.01),
    margin: env.get('IDENTIFY_MARGIN', defaultMargin),
  },

  /** Last-seen times are gathered in Redis and written to the database this often. */
  presenceFlushSeconds: env.get('DEVICE_PRESENCE_FLUSH_SECONDS', 15),

  /**
   * A device is online while its last call is at most this old. The
   * protocol sets no poll interval: a minute is twice the interval of a
   * terminal that calls (getDbs, a token) at least every 30 seconds, so
   * one late call does not show it offline. A site whose idle terminals
   * call less often sets twice their interval.
   */
  onlineSeconds: env.get('DEVICE_ONLINE_SECONDS', 60),

  /** Lifetime of the signed `picUrl` links in getDbs answers. */
  pictureUrlTtlSeconds: env.get('FACE_PICTURE_URL_TTL', 3600),

  /**
   * Uploaded images: bytes are checked before anything is decoded, pixels
   * from the header before the pixels are. All pictures being worked on
   * at once share `decodeBudgetPixels` (100 megapixels, about 300 MB of
   * RGB); one that does not fit waits up to `decodeWaitMs`, then is
   * refused as too large (69642).
   */
  images: {
    maxBytes: env.get('TERMINAL_IMAGE_MAX_BYTES', 10 * 1024 * 1024),
    maxPixels: env.get('TERMINAL_IMAGE_MAX_PIXELS', 40_000_000),
    decodeBudgetPixels: env.get('IMAGE_DECODE_BUDGET_PIXELS', 100_000_000),
    decodeWaitMs: 5000,
  },

  /**
   * Enrolment photos and event snapshots. Paths in the database are
   * relative to the app root, as the retention job expects.
   */
  storageDir: resolve(app.makePath(), env.get('STORAGE_DIR', 'tmp/storage')),

  /**
   * The access group preselected when an operator reviews a person a
   * terminal created; such people join no group until approved.
   */
  regFaceAccessGroup: env.get('REGFACE_ACCESS_GROUP') || null,

  /**
   * Device sync: how long a syncEvents call waits for a change before it
   * answers "no change" (below the terminals' and proxies' read timeouts),
   * and after how many minutes with changes pending a device is flagged
   * on the Devices page.
   */
  sync: {
    waitSeconds: env.get('DEVICE_SYNC_WAIT_SECONDS', 25),
    alertMinutes: env.get('DEVICE_SYNC_ALERT_MINUTES', 60),
  },

  /**
   * Terminal agents: how long a pairing request waits for an operator and
   * how many may wait for one serial number; how long a remote command may
   * wait to be sent (a door must not open long after the click); after how
   * many minutes an unsent backlog of decisions is flagged.
   */
  agent: {
    pairingTtlSeconds: 15 * 60,
    pairingsPerDevice: 5,
    commandTtlSeconds: { open_door: 60, sync_now: 10 * 60, restart: 10 * 60, enrol: 10 * 60 },
    backlogAlertMinutes: 15,
  },

  /** getDbs answers larger than this are compressed for clients that accept it. */
  compressAboveBytes: 8 * 1024,
}

export default terminalConfig
export type TerminalConfig = typeof terminalConfig
