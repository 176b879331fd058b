import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import terminalConfig from '#config/terminal'
import { FaceDbRevision } from '#faces/face_db_revision'
import { toSqlDateTime } from '#services/sql_time'

/** Where a device stands in the face database. */
export type DeviceSyncState = {
  deviceId: number
  acknowledgedRevision: number | null
  acknowledgedAt: DateTime | null
  pendingChanges: number
  behindSince: DateTime | null
}

/** A device's sync as the Devices pages show it. */
export type DeviceSyncView = DeviceSyncState & {
  /** Behind for longer than DEVICE_SYNC_ALERT_MINUTES. */
  flagged: boolean
}

/** A removal, and whether one device acknowledged it. */
export type DeviceRemoval = {
  username: string
  revision: number
  at: DateTime
  acknowledged: boolean
}

/** A person removed from every device at a revision, and which devices acknowledged it. */
export type RemovalReceipt = {
  username: string
  revision: number
  at: DateTime
  acknowledged: { id: number; name: string }[]
  waiting: { id: number; name: string }[]
}

const cursor = 'device_sync'
const chunkSize = 400

/** A timestamp as the database answers it (a string on SQLite, a Date on PostgreSQL). */
function readTime(value: unknown) {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return DateTime.fromJSDate(value)
  return DateTime.fromSQL(String(value))
}

function chunks<T>(items: T[], size = chunkSize) {
  const out: T[][] = []
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size))
  return out
}

/**
 * What each device holds of the face database and what it still lacks.
 * Devices acknowledge the revision they hold (syncEvents, getDbs `since`);
 * the sync job turns changes into per-device pending counts: a person's
 * change concerns the devices of the groups they were in before it and
 * are in after it, a removal (tombstone) concerns every device, and a
 * device whose own grants changed, or that never acknowledged anything,
 * is owed everything it may admit.
 */
@inject()
export class DeviceSyncLedger {
  constructor(private revisions: FaceDbRevision) {}

  /**
   * Records the changes since the last run and counts every device's
   * pending changes again. Returns the revision now counted. Safe to run
   * again after a failure: change rows written twice count once.
   */
  async process() {
    const revision = await this.revisions.current()
    const processed = await this.#processed()
    if (revision > processed) {
      await this.#recordChanges(processed, revision)
      await db.from('revision_counters').where('name', cursor).update({ value: revision })
    }
    await this.#recount()
    await this.#prune()
    return revision
  }

  /**
   * The device says it holds `revision`; its pending changes are counted
   * from there, always, so that a count the job made from an older
   * acknowledgement is put right at the device's next call. Writes only
   * what changed; the time is that of the first acknowledgement of the
   * revision.
   */
  async acknowledge(deviceId: number, revision: number): Promise<DeviceSyncState> {
    const stored = await this.stateOf(deviceId)
    const counts = await this.#pendingCounts([deviceId], revision)
    const pending = counts.get(deviceId) ?? 0
    const now = DateTime.now()
    const same = stored?.acknowledgedRevision === revision
    if (same && stored.pendingChanges === pending) return stored
    const state: DeviceSyncState = {
      deviceId,
      acknowledgedRevision: revision,
      acknowledgedAt: same ? stored.acknowledgedAt : now,
      pendingChanges: pending,
      behindSince: pending > 0 ? (stored?.behindSince ?? now) : null,
    }
    await this.#write([state])
    return state
  }

  async stateOf(deviceId: number) {
    const states = await this.statesOf([deviceId])
    return states.get(deviceId) ?? null
  }

  async statesOf(deviceIds: number[]) {
    const states = new Map<number, DeviceSyncState>()
    for (const ids of chunks(deviceIds)) {
      const rows = await db.from('device_sync_states').whereIn('device_id', ids)
      for (const row of rows) states.set(Number(row.device_id), this.#state(row))
    }
    return states
  }

  /**
   * The devices' sync for the Devices pages, flagged when changes have
   * been pending longer than the alert time.
   */
  async views(deviceIds: number[]) {
    const states = await this.statesOf(deviceIds)
    const alertAfter = DateTime.now().minus({ minutes: terminalConfig.sync.alertMinutes })
    const views = new Map<number, DeviceSyncView>()
    for (const [deviceId, state] of states) {
      const flagged =
        state.pendingChanges > 0 && !!state.behindSince && state.behindSince < alertAfter
      views.set(deviceId, { ...state, flagged })
    }
    return views
  }

  /** The latest removals, and whether this device acknowledged each. */
  async removalsFor(deviceId: number, limit = 10): Promise<DeviceRemoval[]> {
    const state = await this.stateOf(deviceId)
    const held = state?.acknowledgedRevision ?? -1
    const rows = await db.from('face_db_tombstones').orderBy('revision', 'desc').limit(limit)
    return rows.map((row) => ({
      username: row.username,
      revision: Number(row.revision),
      at: readTime(row.created_at)!,
      acknowledged: held >= Number(row.revision),
    }))
  }

  /** Of these devices, those with changes pending, and how many. */
  async behind(deviceIds: number[]) {
    const pending = new Map<number, number>()
    for (const ids of chunks(deviceIds)) {
      const rows = await db
        .from('device_sync_states')
        .whereIn('device_id', ids)
        .where('pending_changes', '>', 0)
        .select('device_id', 'pending_changes')
      for (const row of rows) pending.set(Number(row.device_id), Number(row.pending_changes))
    }
    return pending
  }

  /**
   * The latest removals (people deleted, consent withdrawn, biometric data
   * erased) and which approved devices acknowledged each: those holding a
   * revision at or past it. `usernames` narrows them to some people.
   */
  async removals(options: { limit?: number; usernames?: string[] } = {}) {
    const query = db
      .from('face_db_tombstones')
      .orderBy('revision', 'desc')
      .limit(options.limit ?? 10)
    if (options.usernames) query.whereIn('username', options.usernames)
    const tombstones = await query
    if (tombstones.length === 0) return []
    const devices = await db
      .from('devices')
      .leftJoin('device_sync_states', 'device_sync_states.device_id', 'devices.id')
      .where('devices.status', 'approved')
      .orderBy('devices.name')
      .select('devices.id', 'devices.name', 'device_sync_states.acknowledged_revision')
    return tombstones.map((row): RemovalReceipt => {
      const revision = Number(row.revision)
      const receipt: RemovalReceipt = {
        username: row.username,
        revision,
        at: readTime(row.created_at)!,
        acknowledged: [],
        waiting: [],
      }
      for (const device of devices) {
        const held =
          device.acknowledged_revision === null ? -1 : Number(device.acknowledged_revision)
        const entry = { id: Number(device.id), name: device.name }
        ;(held >= revision ? receipt.acknowledged : receipt.waiting).push(entry)
      }
      return receipt
    })
  }

  async #processed() {
    const row = await db.from('revision_counters').where('name', cursor).first()
    if (row) return Number(row.value)
    await db.table('revision_counters').insert({ name: cursor, value: 0 })
    return 0
  }

  /**
   * One row per changed person and group they were in before or are in
   * now; then the groups they are in now become what the next run
   * compares with.
   */
  async #recordChanges(after: number, upTo: number) {
    const people = await db
      .from('people')
      .where('revision', '>', after)
      .where('revision', '<=', upTo)
      .select('id', 'username', 'revision')
    for (const batch of chunks(people)) {
      const ids = batch.map((person) => Number(person.id))
      const [before, now] = await Promise.all([
        db.from('device_sync_memberships').whereIn('person_id', ids),
        db.from('access_group_people').whereIn('person_id', ids),
      ])
      const groups = new Map<number, Set<number>>()
      for (const row of [...before, ...now]) {
        const personId = Number(row.person_id)
        if (!groups.has(personId)) groups.set(personId, new Set())
        groups.get(personId)!.add(Number(row.access_group_id))
      }
      const changes = batch.flatMap((person) =>
        [...(groups.get(Number(person.id)) ?? [])].map((groupId) => ({
          revision: Number(person.revision),
          person_id: Number(person.id),
          username: person.username,
          access_group_id: groupId,
        }))
      )
      for (const rows of chunks(changes)) await db.table('device_sync_changes').multiInsert(rows)
      await db.from('device_sync_memberships').whereIn('person_id', ids).delete()
      const memberships = now.map((row) => ({
        person_id: Number(row.person_id),
        access_group_id: Number(row.access_group_id),
      }))
      for (const rows of chunks(memberships)) {
        await db.table('device_sync_memberships').multiInsert(rows)
      }
    }
  }

  /** Every device's pending count, written where it changed. */
  async #recount() {
    const rows = await db
      .from('devices')
      .leftJoin('device_sync_states', 'device_sync_states.device_id', 'devices.id')
      .select(
        'devices.id',
        'device_sync_states.acknowledged_revision',
        'device_sync_states.acknowledged_at',
        'device_sync_states.pending_changes',
        'device_sync_states.behind_since',
        'device_sync_states.updated_at'
      )
    const counts = await this.#pendingCounts(null)
    const now = DateTime.now()
    const changed: DeviceSyncState[] = []
    for (const row of rows) {
      const deviceId = Number(row.id)
      const pending = counts.get(deviceId) ?? 0
      const known = row.updated_at !== null
      if (known && Number(row.pending_changes) === pending) continue
      const behindSince = readTime(row.behind_since)
      changed.push({
        deviceId,
        acknowledgedRevision:
          row.acknowledged_revision === null ? null : Number(row.acknowledged_revision),
        acknowledgedAt: readTime(row.acknowledged_at),
        pendingChanges: pending,
        behindSince: pending > 0 ? (behindSince ?? now) : null,
      })
    }
    await this.#write(changed, { countsOnly: true })
  }

  /**
   * Pending people entries of the devices named (all when null), counted
   * from `revision` when given, else from what each acknowledged.
   */
  async #pendingCounts(deviceIds: number[] | null, revision?: number) {
    const counts = new Map<number, number>()
    const devices = db
      .from('devices')
      .leftJoin('device_sync_states as s', 's.device_id', 'devices.id')
      .select('devices.id', 'devices.sync_revision', 's.acknowledged_revision')
    if (deviceIds) devices.whereIn('devices.id', deviceIds)
    const whole: number[] = []
    const incremental = new Map<number, number>()
    for (const row of await devices) {
      const held =
        revision ?? (row.acknowledged_revision === null ? null : Number(row.acknowledged_revision))
      if (held === null || Number(row.sync_revision) > held) whole.push(Number(row.id))
      else incremental.set(Number(row.id), held)
    }

    for (const ids of chunks(whole)) {
      const at = toSqlDateTime()
      const rows = await db
        .from('access_group_devices as gd')
        .join('access_group_people as gp', 'gp.access_group_id', 'gd.access_group_id')
        .join('people', 'people.id', 'gp.person_id')
        .whereIn('gd.device_id', ids)
        .where('people.status', 'active')
        .where((from) => from.whereNull('people.valid_from').orWhere('people.valid_from', '<=', at))
        .where((until) =>
          until.whereNull('people.valid_until').orWhere('people.valid_until', '>=', at)
        )
        .whereExists((faces) => faces.from('faces').whereColumn('faces.person_id', 'people.id'))
        .groupBy('gd.device_id')
        .select('gd.device_id')
        .countDistinct('people.id as total')
      for (const row of rows) counts.set(Number(row.device_id), Number(row.total))
    }

    if (incremental.size === 0) return counts
    const oldest = Math.min(...incremental.values())
    const changesQuery = db
      .from('device_sync_changes as c')
      .join('access_group_devices as gd', 'gd.access_group_id', 'c.access_group_id')
      .where('c.revision', '>', oldest)
      .select('gd.device_id', 'c.username', 'c.revision')
    if (deviceIds) changesQuery.whereIn('gd.device_id', [...incremental.keys()])
    const changes = await changesQuery
    const tombstones = await db
      .from('face_db_tombstones')
      .where('revision', '>', oldest)
      .select('username', 'revision')
    const owed = new Map<number, Set<string>>()
    const owe = (deviceId: number, username: string) => {
      if (!owed.has(deviceId)) owed.set(deviceId, new Set())
      owed.get(deviceId)!.add(username)
    }
    for (const change of changes) {
      const held = incremental.get(Number(change.device_id))
      if (held !== undefined && Number(change.revision) > held) {
        owe(Number(change.device_id), change.username)
      }
    }
    for (const tombstone of tombstones) {
      for (const [deviceId, held] of incremental) {
        if (Number(tombstone.revision) > held) owe(deviceId, tombstone.username)
      }
    }
    for (const [deviceId, usernames] of owed) counts.set(deviceId, usernames.size)
    return counts
  }

  /**
   * Upserts the states. The job writes `countsOnly`: an acknowledgement
   * that arrived while it counted must not be overwritten with the one it
   * read.
   */
  async #write(states: DeviceSyncState[], options: { countsOnly?: boolean } = {}) {
    const merged = options.countsOnly
      ? ['pending_changes', 'behind_since', 'updated_at']
      : undefined
    const at = toSqlDateTime()
    const time = (value: DateTime | null) => (value ? toSqlDateTime(value) : null)
    for (const batch of chunks(states)) {
      await db
        .table('device_sync_states')
        .multiInsert(
          batch.map((state) => ({
            device_id: state.deviceId,
            acknowledged_revision: state.acknowledgedRevision,
            acknowledged_at: time(state.acknowledgedAt),
            pending_changes: state.pendingChanges,
            behind_since: time(state.behindSince),
            updated_at: at,
          }))
        )
        .knexQuery.onConflict('device_id')
        .merge(merged)
    }
  }

  /**
   * Drops change rows every device acknowledged, and what the job kept of
   * people deleted since.
   */
  async #prune() {
    const [oldest] = await db
      .from('devices')
      .join('device_sync_states', 'device_sync_states.device_id', 'devices.id')
      .where('devices.status', 'approved')
      .min('device_sync_states.acknowledged_revision as revision')
    if (oldest?.revision !== null && oldest?.revision !== undefined) {
      await db.from('device_sync_changes').where('revision', '<=', Number(oldest.revision)).delete()
    }
    await db
      .from('device_sync_memberships')
      .whereNotExists((person) =>
        person.from('people').whereColumn('people.id', 'device_sync_memberships.person_id')
      )
      .delete()
  }

  #state(row: Record<string, any>): DeviceSyncState {
    return {
      deviceId: Number(row.device_id),
      acknowledgedRevision:
        row.acknowledged_revision === null ? null : Number(row.acknowledged_revision),
      acknowledgedAt: readTime(row.acknowledged_at),
      pendingChanges: Number(row.pending_changes),
      behindSince: readTime(row.behind_since),
    }
  }
}
