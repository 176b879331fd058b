import { DateTime } from 'luxon'
import type { I18n } from '@adonisjs/i18n'
import type AuditLog from '#models/audit_log'
import Person from '#models/person'
import Schedule from '#models/schedule'
import User from '#models/user'
import { siteTime } from '#services/site_time'

/** One entry of the audit log as the page and the export say it. */
export type AuditLogLine = {
  entry: AuditLog
  /** Who: an operator's name, a terminal, a command-line user, or someone not signed in. */
  actor: string
  /** What happened, as a sentence: "Ada added Grace Hopper to access group Lobby". */
  sentence: string
  /** The fields the entry holds beyond the sentence, named and valued in words. */
  changes: { field: string; before?: string; after?: string }[]
}

type Values = Record<string, unknown>

/** Fields that every write touches, or that only number records the sentence names. */
const unshownFields = new Set([
  'id',
  'createdAt',
  'updatedAt',
  'revision',
  'syncRevision',
  'personId',
  'deviceId',
  'faceId',
  'reviewId',
])

/** Fields an action's sentence already says, left out of its changes. */
const saidInSentence: Record<string, string[]> = {
  'access_group.add_person': ['username', 'displayName'],
  'access_group.remove_person': ['username', 'displayName'],
  'access_group.add_device': ['name', 'serialNumber'],
  'access_group.remove_device': ['name', 'serialNumber'],
  'schedule.add_window': ['weekday', 'from', 'until'],
  'schedule.remove_window': ['weekday', 'from', 'until'],
  'schedule.add_holiday': ['date', 'name'],
  'schedule.remove_holiday': ['date', 'name'],
  'session.sign_in_failed': ['email', 'reason'],
  'session.locked_out': ['email', 'until'],
  'operator.sign_out_everywhere': ['sessions'],
  'operator.unlock': ['addresses'],
}

/** Fields holding a day (a person's validity), shown without a time or a zone. */
const dayFields = new Set(['validFrom', 'validUntil'])

/** Fields holding an operator's id, shown as the operator's name. */
const operatorFields = new Set(['consentRecordedBy', 'recordedBy', 'createdBy', 'userId'])

/** Fields whose values are codes with a name in the pages' messages. */
const codeNames: Record<string, (subjectType: string) => string> = {
  status: (subjectType) => (subjectType === 'device' ? 'devices.status' : 'people.status'),
  role: () => 'roles',
  mode: () => 'devices.mode',
  requiredFactors: () => 'devices.factors',
  source: () => 'people.faces.sources',
  permissions: () => 'devices.access.permission',
  kind: () => 'enrolment_reviews.kinds',
  reasons: () => 'audit.review_reasons',
  state: () => 'settings.states',
  weekday: () => 'schedules.weekdays',
  locale: () => 'audit.locales',
}

/**
 * Puts audit entries into words in the reader's language: who did it (an
 * operator by name, not by id or email), a sentence for the action with the
 * names of what it touched, and the other fields it recorded with their
 * names translated, codes named, operators' ids as names and times to the
 * minute. An action without a sentence of its own (a new one) is still
 * said plainly, with its code.
 */
export class AuditLogWording {
  async lines(entries: AuditLog[], i18n: I18n): Promise<AuditLogLine[]> {
    const names = await this.#names(entries)
    return entries.map((entry) => this.#line(entry, i18n, names))
  }

  #line(entry: AuditLog, i18n: I18n, names: Names): AuditLogLine {
    const actor = actorName(entry, i18n, names)
    const subject = subjectName(entry, names)
    const values = { ...(entry.before ?? {}), ...(entry.after ?? {}) } as Values
    const params = { ...sentenceValues(entry, values, i18n), actor, subject }
    const sentence = i18n.t(
      `audit.actions.${entry.action}`,
      params,
      i18n.t('audit.actions.other', { ...params, action: entry.action })
    )
    return { entry, actor, sentence, changes: this.#changes(entry, i18n, names) }
  }

  /**
   * A field on both sides changed from one value to the other; a field on
   * one side only (a record created or deleted, the review an approval
   * decided) is shown with its value.
   */
  #changes(entry: AuditLog, i18n: I18n, names: Names) {
    const before = flatten(entry.before)
    const after = flatten(entry.after)
    const hidden = new Set(saidInSentence[entry.action] ?? [])
    const changes: AuditLogLine['changes'] = []
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (unshownFields.has(field) || hidden.has(field)) continue
      const was =
        field in before ? this.#value(entry, field, before[field], i18n, names) : undefined
      const now = field in after ? this.#value(entry, field, after[field], i18n, names) : undefined
      const name = i18n.t(`audit.field_names.${field}`, {}, field)
      if (field in before && field in after) {
        if (was !== now) changes.push({ field: name, before: was ?? '—', after: now ?? '—' })
      } else if (was !== undefined || now !== undefined) {
        changes.push(field in before ? { field: name, before: was } : { field: name, after: now })
      }
    }
    return changes
  }

  /** A value in words; undefined when it is empty. */
  #value(entry: AuditLog, field: string, value: unknown, i18n: I18n, names: Names) {
    if (value === null || value === undefined || value === '') return undefined
    if (operatorFields.has(field) && typeof value === 'number') {
      return names.users.get(value)?.fullName ?? `#${value}`
    }
    if (field === 'scheduleId' && typeof value === 'number') {
      return names.schedules.get(value) ?? `#${value}`
    }
    if (typeof value === 'boolean') return i18n.t(value ? 'common.yes' : 'common.no')
    if (dayFields.has(field) && typeof value === 'string') {
      return DateTime.fromISO(value, { setZone: true }).toISODate() ?? value
    }
    const codes = codeNames[field]?.(entry.subjectType)
    if (codes) {
      const list = Array.isArray(value) ? value : [value]
      if (list.length === 0) return i18n.t('devices.access.none')
      return list.map((code) => i18n.t(`${codes}.${code}`, {}, String(code))).join(', ')
    }
    return shortText(value)
  }

  /** The operators, people and schedules the entries name by id, in a few queries. */
  async #names(entries: AuditLog[]): Promise<Names> {
    const userIds = new Set<number>()
    const personIds = new Set<number>()
    const scheduleIds = new Set<number>()
    for (const entry of entries) {
      if (entry.userId) userIds.add(entry.userId)
      if (entry.subjectType === 'user' && entry.subjectId) userIds.add(Number(entry.subjectId))
      if (entry.subjectType === 'person' && entry.subjectId) personIds.add(Number(entry.subjectId))
      for (const side of [entry.before, entry.after]) {
        for (const [field, value] of Object.entries(side ?? {})) {
          if (typeof value !== 'number') continue
          if (operatorFields.has(field)) userIds.add(value)
          if (field === 'scheduleId') scheduleIds.add(value)
        }
      }
    }
    const [users, people, schedules] = await Promise.all([
      userIds.size ? User.query().whereIn('id', [...userIds]) : [],
      personIds.size ? Person.query().whereIn('id', [...personIds]) : [],
      scheduleIds.size ? Schedule.query().whereIn('id', [...scheduleIds]) : [],
    ])
    return {
      users: new Map(users.map((user) => [user.id, user])),
      people: new Map(people.map((person) => [person.id, person.displayName])),
      schedules: new Map(schedules.map((schedule) => [schedule.id, schedule.name])),
    }
  }
}

type Names = {
  users: Map<number, User>
  people: Map<number, string>
  schedules: Map<number, string>
}

/**
 * Who made the change: an operator by their name (as it is now), a
 * terminal by its serial number, a command-line user by their account, the
 * server by the rule it applied, and a visitor not signed in as "someone".
 */
function actorName(entry: AuditLog, i18n: I18n, names: Names) {
  const operator = entry.userId ? names.users.get(entry.userId) : undefined
  if (operator) return operator.fullName
  const [kind, ...rest] = entry.actor.split(':')
  if (kind === 'device' && rest.length) {
    return i18n.t('audit.actors.device', { serial: rest.join(':') })
  }
  if (kind === 'cli' && rest.length) return i18n.t('audit.actors.cli', { name: rest.join(':') })
  if (kind === 'system' && rest.length) {
    const rule = rest.join(':')
    const named = i18n.hasMessage(`audit.rules.${rule}`) ? i18n.t(`audit.rules.${rule}`) : rule
    return i18n.t('audit.actors.system', { rule: named })
  }
  if (entry.actor === 'anonymous') return i18n.t('audit.actors.anonymous')
  return entry.actor
}

/** What the entry is about, by name: a person's name rather than their username. */
function subjectName(entry: AuditLog, names: Names) {
  const id = entry.subjectId ? Number(entry.subjectId) : null
  if (entry.subjectType === 'person') {
    const stored = entry.after?.displayName ?? entry.before?.displayName
    const known = id === null ? undefined : names.people.get(id)
    return known ?? (typeof stored === 'string' ? stored : (entry.subjectLabel ?? ''))
  }
  if (entry.subjectType === 'user' && id !== null && names.users.has(id)) {
    return names.users.get(id)!.fullName
  }
  return entry.subjectLabel ?? entry.subjectId ?? ''
}

/** The values the actions' sentences name besides who and what. */
function sentenceValues(entry: AuditLog, values: Values, i18n: I18n) {
  const text = (value: unknown) => (value === null || value === undefined ? '' : String(value))
  const until = typeof values.until === 'string' ? DateTime.fromISO(values.until) : null
  return {
    person: text(values.displayName),
    device: text(values.name),
    name: text(values.name),
    date: text(values.date),
    weekday: values.weekday ? i18n.t(`schedules.weekdays.${values.weekday}`) : '',
    from: text(values.from),
    until: until?.isValid ? siteTime(until, 'HH:mm') : text(values.until),
    email: text(values.email),
    reason: values.reason ? i18n.t(`audit.sign_in_reasons.${values.reason}`) : '',
    count: Number(entry.after?.sessions ?? entry.after?.addresses ?? entry.before?.faces ?? 0),
    address: entry.ipAddress ?? '',
    days: text(values.retentionDays),
  }
}

/**
 * The fields of nested records (a device's settings) as fields of their
 * own, so that each is named and compared by itself.
 */
function flatten(side: Values | null): Values {
  const flat: Values = {}
  if (!side) return flat
  for (const [field, value] of Object.entries(side)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      Object.assign(flat, value)
    } else {
      flat[field] = value
    }
  }
  return flat
}

const maxValueLength = 120

/** A value on one short line: times to the minute at the site, long text cut. */
function shortText(value: unknown) {
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/\s+/g, ' ')
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) {
    const time = DateTime.fromISO(text)
    if (time.isValid) return siteTime(time, 'yyyy-MM-dd HH:mm')
  }
  return text.length > maxValueLength ? `${text.slice(0, maxValueLength - 1)}…` : text
}
