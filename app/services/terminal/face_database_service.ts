import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import { FaceDbRevision } from '#faces/face_db_revision'
import { toSqlDateTime } from '#services/sql_time'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { faceDataOf } from '#faces/face_data'
import { FacePictureLinks } from '#services/terminal/face_picture_links'
import { OfflineRules, type OfflineRulesAnswer } from '#services/terminal/offline_rules'
import type { TerminalResult } from '#services/terminal/protocol'

export type FaceDbEntry = { name: string; username: string; faceData: string; picUrl: string }

export type FaceDbAnswer = {
  names: FaceDbEntry[]
  removed: string[]
  revision: number
  full: boolean
} & OfflineRulesAnswer

/** What a device last received: the revision, and when (ms), for the next `since`. */
type SyncPoint = { revision: number; at: number }

const syncPointDays = 30

type Query = DatabaseQueryBuilderContract<any>

/**
 * getDbs: the people a device may admit, with their faces. That is every
 * active person within their validity dates who shares an access group
 * with the device; schedules are decided at the door, not here.
 *
 * With `since` (the `revision` of an earlier answer) only what changed is
 * sent: in `names`, every face of each person added or changed (replace
 * all entries of those usernames), and in `removed`, the usernames to drop.
 * Changes are people whose revision passed `since` (every edit, status
 * change and group change bumps it), tombstones of deleted people, and
 * people whose validity began or ended since the device's last answer,
 * which no edit marks. A device whose own grants changed, or whose `since`
 * is not the revision it was last sent, gets everything again.
 *
 * Beside the faces, the rules an offline terminal decides with: the
 * validity dates and groups of the people sent, the device's groups with
 * their schedules, its required factors and the site's time zone.
 */
@inject()
export class FaceDatabaseService {
  constructor(
    private revisions: FaceDbRevision,
    private links: FacePictureLinks,
    private ledger: DeviceSyncLedger,
    private offlineRules: OfflineRules
  ) {}

  async forDevice(
    device: Device,
    options: { since?: number; baseUrl: string }
  ): Promise<TerminalResult<FaceDbAnswer>> {
    const now = DateTime.now()
    const revision = await this.revisions.current()
    const lastSyncAt = await this.#incrementalBase(device, options.since, revision)
    if (options.since !== undefined && options.since <= revision) {
      await this.ledger.acknowledge(device.id, options.since)
    }

    let faces: Pick<FaceDbAnswer, 'names' | 'removed' | 'full'>
    if (options.since !== undefined && lastSyncAt) {
      const changed = this.#changedSince(device, options.since, lastSyncAt, now)
      const names = await this.#entries(device, now, options.baseUrl, changed)
      const removed = await this.#removed(changed, options.since, names)
      faces = { names, removed, full: false }
    } else {
      const names = await this.#entries(device, now, options.baseUrl)
      faces = { names, removed: [], full: true }
    }
    const usernames = [...new Set(faces.names.map((entry) => entry.username))]
    const rules = await this.offlineRules.forDevice(device, usernames)
    const data: FaceDbAnswer = { ...faces, revision, ...rules }
    await this.#remember(device, { revision, at: now.toMillis() })
    return { ok: true, data, message: `${data.names.length} faces` }
  }

  /**
   * When the device was last sent the revision it names in `since`; null
   * when it must get everything instead.
   */
  async #incrementalBase(device: Device, since: number | undefined, revision: number) {
    if (since === undefined || since > revision || Number(device.syncRevision) > since) return null
    const last = await this.#syncPoint(device)
    return last?.revision === since ? DateTime.fromMillis(last.at) : null
  }

  #changedSince(device: Device, since: number, lastSyncAt: DateTime, now: DateTime) {
    const [from, to] = [toSqlDateTime(lastSyncAt), toSqlDateTime(now)]
    return (query: Query) =>
      query.where((changes) => {
        changes.where('people.revision', '>', since).orWhere((crossing) => {
          this.#inGroupOf(crossing, device).where((dates) => {
            dates
              .where((start) =>
                start.where('people.valid_from', '>', from).where('people.valid_from', '<=', to)
              )
              .orWhere((end) =>
                end.where('people.valid_until', '>', from).where('people.valid_until', '<=', to)
              )
          })
        })
      })
  }

  /**
   * Changed people the device may no longer admit (or who have no face
   * left), and people deleted since, unless a new person took the username.
   */
  async #removed(changed: (query: Query) => Query, since: number, names: FaceDbEntry[]) {
    const people: { username: string }[] = await changed(db.from('people')).select('username')
    const tombstones: { username: string }[] = await db
      .from('face_db_tombstones')
      .where('revision', '>', since)
      .select('username')
    const sent = new Set(names.map((entry) => entry.username))
    const usernames = [...people, ...tombstones].map((row) => row.username)
    return [...new Set(usernames)].filter((username) => !sent.has(username))
  }

  async #entries(device: Device, now: DateTime, baseUrl: string, scope?: (query: Query) => Query) {
    const query = db
      .from('faces')
      .join('people', 'people.id', 'faces.person_id')
      .select(
        'faces.id',
        'faces.embedding',
        'faces.model_id',
        'faces.dimension',
        'faces.image_path',
        'people.username',
        'people.display_name'
      )
      .orderBy('people.id')
      .orderBy('faces.id')
    this.#eligible(query, device, now)
    if (scope) scope(query)
    const rows = await query

    const entries: FaceDbEntry[] = []
    for (const row of rows) {
      try {
        entries.push({
          name: row.display_name,
          username: row.username,
          faceData: faceDataOf({
            embedding: Buffer.from(row.embedding),
            modelId: row.model_id,
            dimension: Number(row.dimension),
          }),
          picUrl: row.image_path ? this.links.urlFor(row.id, baseUrl) : '',
        })
      } catch (error) {
        logger.warn({ err: error, faceId: row.id }, 'stored face left out of getDbs')
      }
    }
    return entries
  }

  #eligible(query: Query, device: Device, now: DateTime) {
    const at = toSqlDateTime(now)
    query
      .where('people.status', 'active')
      .where((from) => from.whereNull('people.valid_from').orWhere('people.valid_from', '<=', at))
      .where((until) =>
        until.whereNull('people.valid_until').orWhere('people.valid_until', '>=', at)
      )
    return this.#inGroupOf(query, device)
  }

  #inGroupOf(query: Query, device: Device) {
    return query.whereExists((grant) => {
      grant
        .from('access_group_people as gp')
        .join('access_group_devices as gd', 'gd.access_group_id', 'gp.access_group_id')
        .whereColumn('gp.person_id', 'people.id')
        .where('gd.device_id', device.id)
    })
  }

  #syncKey(device: Device) {
    return `${terminalConfig.keyspace}:synced:${device.id}`
  }

  async #syncPoint(device: Device): Promise<SyncPoint | null> {
    const value = await redis.get(this.#syncKey(device))
    if (!value) return null
    const [revision, at] = value.split('|').map(Number)
    return Number.isFinite(revision) && Number.isFinite(at) ? { revision, at } : null
  }

  async #remember(device: Device, point: SyncPoint) {
    const ttl = syncPointDays * 24 * 3600
    await redis.set(this.#syncKey(device), `${point.revision}|${point.at}`, 'EX', ttl)
  }
}
