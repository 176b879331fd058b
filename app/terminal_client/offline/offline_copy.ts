import { decodeFeature } from '#faces/feature_blob'
import type { RequiredFactors, ScheduleRule } from '#services/access_rules'
import { inTransaction, type AgentDatabase } from '#terminal-client/agent_store'

/**
 * The agent's copy of what getDbs sent it, in its own database: the people
 * it may admit with their faces, validity dates, groups and cards, the
 * device's groups with their schedules, the device's rules, and the
 * revision it holds.
 */

export type CopiedPerson = {
  username: string
  name: string
  validFrom: string | null
  validUntil: string | null
  groups: number[]
  cardNumber: string | null
  photoUrl: string | null
}

export type CopiedFace = { username: string; model: string; vector: Float32Array }

export type CopiedGroup = { id: number; name: string; schedule: ScheduleRule | null }

export type DeviceRules = {
  requiredFactors: RequiredFactors
  timeZone: string
  /** Set only when the server sends them; otherwise the agent's own settings apply. */
  targetFpir: number | null
  margin: number | null
}

/** One getDbs answer, checked and decoded, ready to be applied in one transaction. */
export type SyncBatch = {
  revision: number
  full: boolean
  /** People added or changed, each with all their faces (replacing those held). */
  people: CopiedPerson[]
  faces: CopiedFace[]
  removed: string[]
  groups: CopiedGroup[]
  rules: DeviceRules
  /** Faces left out because their blob did not decode, with the reason. */
  skipped: { username: string; reason: string }[]
}

export type OfflineSnapshot = {
  revision: number | null
  syncedAt: number | null
  people: CopiedPerson[]
  faces: CopiedFace[]
  groups: CopiedGroup[]
  rules: DeviceRules | null
}

const factors = new Set<RequiredFactors>(['face', 'card', 'face_card'])

/** Why an answer cannot be used; the copy is left as it is. */
export class UnusableAnswer extends Error {}

/**
 * The batch a getDbs answer describes, or UnusableAnswer when it lacks
 * what the agent decides with. A face whose blob does not decode is left
 * out (and listed) rather than the whole answer refused, as the server
 * leaves out a stored face it cannot encode.
 */
export function batchOf(answer: Record<string, unknown>): SyncBatch {
  const { revision, names, removed, people, groups } = answer
  if (!Number.isSafeInteger(revision) || (revision as number) < 0) {
    throw new UnusableAnswer('no revision')
  }
  if (!Array.isArray(names)) throw new UnusableAnswer('no names')
  if (removed !== undefined && !isStrings(removed)) throw new UnusableAnswer('bad removed')
  if (!Array.isArray(people) || !Array.isArray(groups)) {
    throw new UnusableAnswer('no people or groups: the server is too old for offline decisions')
  }
  const requiredFactors = answer.requiredFactors as RequiredFactors
  if (!factors.has(requiredFactors)) throw new UnusableAnswer('no requiredFactors')
  if (typeof answer.timeZone !== 'string' || !answer.timeZone) {
    throw new UnusableAnswer('no timeZone')
  }

  const rulesOf = new Map<string, Record<string, unknown>>()
  for (const entry of people) {
    if (!entry || typeof entry.username !== 'string') throw new UnusableAnswer('bad people entry')
    rulesOf.set(entry.username, entry)
  }
  const batch: SyncBatch = {
    revision: revision as number,
    full: answer.full === true,
    people: [],
    faces: [],
    removed: (removed as string[] | undefined) ?? [],
    groups: groups.map(groupOf),
    rules: {
      requiredFactors,
      timeZone: answer.timeZone,
      targetFpir: fraction(answer.targetFpir),
      margin: typeof answer.margin === 'number' && answer.margin >= 0 ? answer.margin : null,
    },
    skipped: [],
  }
  const seen = new Set<string>()
  for (const entry of names) {
    if (!entry || typeof entry.username !== 'string' || typeof entry.faceData !== 'string') {
      throw new UnusableAnswer('bad names entry')
    }
    const username: string = entry.username
    if (!seen.has(username)) {
      seen.add(username)
      const rules = rulesOf.get(username) ?? {}
      batch.people.push({
        username,
        name: typeof entry.name === 'string' ? entry.name : username,
        validFrom: isoOrNull(rules.validFrom),
        validUntil: isoOrNull(rules.validUntil),
        groups: Array.isArray(rules.groups) ? rules.groups.filter(Number.isSafeInteger) : [],
        cardNumber: typeof rules.cardNumber === 'string' ? rules.cardNumber : null,
        photoUrl: typeof entry.picUrl === 'string' && entry.picUrl ? entry.picUrl : null,
      })
    }
    const decoded = decodeFeature(entry.faceData)
    if (decoded.ok) {
      batch.faces.push({ username, ...decoded.feature })
    } else {
      batch.skipped.push({ username, reason: decoded.error.message })
    }
  }
  return batch
}

function groupOf(entry: Record<string, any>): CopiedGroup {
  if (!entry || !Number.isSafeInteger(entry.id)) throw new UnusableAnswer('bad group')
  const schedule = entry.schedule
  if (schedule !== null && schedule !== undefined) {
    if (!Array.isArray(schedule.windows) || !isStrings(schedule.holidays)) {
      throw new UnusableAnswer(`bad schedule of group ${entry.id}`)
    }
    for (const window of schedule.windows) {
      const parts = [window?.weekday, window?.startsAtMinute, window?.endsAtMinute]
      if (!parts.every(Number.isSafeInteger)) {
        throw new UnusableAnswer(`bad window in group ${entry.id}`)
      }
    }
  }
  return {
    id: entry.id,
    name: String(entry.name ?? ''),
    schedule: schedule
      ? {
          windows: schedule.windows.map((window: Record<string, number>) => ({
            weekday: window.weekday,
            startsAtMinute: window.startsAtMinute,
            endsAtMinute: window.endsAtMinute,
          })),
          holidays: schedule.holidays,
        }
      : null,
  }
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function isoOrNull(value: unknown) {
  return typeof value === 'string' && value ? value : null
}

function fraction(value: unknown) {
  return typeof value === 'number' && value > 0 && value < 1 ? value : null
}

/**
 * Applies a batch in one transaction: a full one replaces the copy, an
 * incremental one replaces the people it names (with all their faces) and
 * drops the removed; groups, rules and the revision are replaced either
 * way. A crash leaves the copy as it was before or after, never between.
 */
export function applyBatch(db: AgentDatabase, batch: SyncBatch, at = Date.now()) {
  inTransaction(db, () => {
    const dropPerson = db.prepare('delete from people where username = ?')
    const dropFaces = db.prepare('delete from faces where username = ?')
    if (batch.full) {
      db.exec('delete from people; delete from faces')
    } else {
      for (const username of [...batch.removed, ...batch.people.map((p) => p.username)]) {
        dropPerson.run(username)
        dropFaces.run(username)
      }
    }
    const addPerson = db.prepare(
      `insert into people (username, name, valid_from, valid_until, group_ids, card_number, photo_url)
       values (?, ?, ?, ?, ?, ?, ?)`
    )
    for (const person of batch.people) {
      addPerson.run(
        person.username,
        person.name,
        person.validFrom,
        person.validUntil,
        JSON.stringify(person.groups),
        person.cardNumber,
        person.photoUrl
      )
    }
    const addFace = db.prepare(
      'insert into faces (username, model, dimension, vector) values (?, ?, ?, ?)'
    )
    for (const face of batch.faces) {
      const bytes = new Uint8Array(
        face.vector.buffer,
        face.vector.byteOffset,
        face.vector.byteLength
      )
      addFace.run(face.username, face.model, face.vector.length, bytes)
    }

    db.exec('delete from access_groups; delete from schedule_windows; delete from holidays')
    const addGroup = db.prepare(
      'insert into access_groups (id, name, schedule_id) values (?, ?, ?)'
    )
    const addWindow = db.prepare(
      `insert into schedule_windows (schedule_id, weekday, starts_at_minute, ends_at_minute)
       values (?, ?, ?, ?)`
    )
    const addHoliday = db.prepare('insert into holidays (schedule_id, date) values (?, ?)')
    for (const group of batch.groups) {
      // Schedules travel inside their groups; each group keeps its own copy under its id.
      addGroup.run(group.id, group.name, group.schedule ? group.id : null)
      for (const window of group.schedule?.windows ?? []) {
        addWindow.run(group.id, window.weekday, window.startsAtMinute, window.endsAtMinute)
      }
      for (const day of group.schedule?.holidays ?? []) addHoliday.run(group.id, day)
    }

    const { rules } = batch
    db.prepare(
      `insert into device_rules (id, required_factors, time_zone, target_fpir, margin)
       values (1, ?, ?, ?, ?)
       on conflict (id) do update set required_factors = excluded.required_factors,
         time_zone = excluded.time_zone, target_fpir = excluded.target_fpir, margin = excluded.margin`
    ).run(rules.requiredFactors, rules.timeZone, rules.targetFpir, rules.margin)
    db.prepare(
      `insert into sync_state (id, revision, synced_at) values (1, ?, ?)
       on conflict (id) do update set revision = excluded.revision, synced_at = excluded.synced_at`
    ).run(batch.revision, at)
  })
}

/** The revision held and when it was received; nulls before the first sync. */
export function syncState(db: AgentDatabase) {
  const row = db.prepare('select revision, synced_at from sync_state where id = 1').get() as
    { revision: number; synced_at: number } | undefined
  return { revision: row?.revision ?? null, syncedAt: row?.synced_at ?? null }
}

/** Everything held, as the decider loads it. */
export function readCopy(db: AgentDatabase): OfflineSnapshot {
  const people = (
    db.prepare('select * from people order by username').all() as Record<string, any>[]
  ).map((row) => ({
    username: row.username,
    name: row.name,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    groups: JSON.parse(row.group_ids) as number[],
    cardNumber: row.card_number,
    photoUrl: row.photo_url,
  }))
  const faces = (
    db.prepare('select username, model, vector from faces order by id').all() as {
      username: string
      model: string
      vector: Uint8Array
    }[]
  ).map((row) => ({
    username: row.username,
    model: row.model,
    // A copy, aligned for Float32Array whatever offset SQLite's buffer has.
    vector: new Float32Array(new Uint8Array(row.vector).buffer),
  }))
  const windows = db
    .prepare('select * from schedule_windows order by weekday, starts_at_minute')
    .all() as Record<string, number>[]
  const holidays = db.prepare('select * from holidays order by date').all() as {
    schedule_id: number
    date: string
  }[]
  const groups = (
    db.prepare('select * from access_groups order by id').all() as Record<string, any>[]
  ).map((row) => ({
    id: row.id as number,
    name: row.name as string,
    schedule:
      row.schedule_id === null
        ? null
        : {
            windows: windows
              .filter((window) => window.schedule_id === row.schedule_id)
              .map((window) => ({
                weekday: window.weekday,
                startsAtMinute: window.starts_at_minute,
                endsAtMinute: window.ends_at_minute,
              })),
            holidays: holidays
              .filter((holiday) => holiday.schedule_id === row.schedule_id)
              .map((holiday) => holiday.date),
          },
  }))
  const rules = db.prepare('select * from device_rules where id = 1').get() as
    Record<string, any> | undefined
  return {
    ...syncState(db),
    people,
    faces,
    groups,
    rules: rules
      ? {
          requiredFactors: rules.required_factors,
          timeZone: rules.time_zone,
          targetFpir: rules.target_fpir,
          margin: rules.margin,
        }
      : null,
  }
}
