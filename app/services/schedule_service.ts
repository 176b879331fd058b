import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import AccessGroup from '#models/access_group'
import Holiday from '#models/holiday'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { FaceDbRevision } from '#faces/face_db_revision'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { uniqueViolation } from '#services/unique_violation'

export type ScheduleInput = { name: string; description?: string | null }

/** Minutes since midnight, end exclusive, on each of the weekdays, as the validator gives them. */
export type WindowInput = { weekdays: number[]; startsAt: number; endsAt: number }

/** The windows of one weekday, copied to others. */
export type CopyInput = { fromWeekday: number; toWeekdays: number[] }

/** One date, or every date from the first to the last. */
export type HolidayInput = { holidayDate: Date; holidayUntil?: Date; holidayName: string }

/** A window as the audit log and the overlap message name it. */
export type WindowLabel = { weekday: number; from: string; until: string }

export type WindowsResult =
  | { ok: true; added: number }
  | { ok: false; error: { type: 'overlap'; conflicts: WindowLabel[] } }
  | { ok: false; error: { type: 'empty_day' } }

export type ScheduleResult =
  { ok: true; schedule: Schedule } | { ok: false; error: { type: 'duplicate_name'; field: 'name' } }

export type ScheduleDeletion =
  { ok: true } | { ok: false; error: { type: 'in_use'; groups: string[] } }

export type HolidayResult =
  | { ok: true; added: Holiday[]; skipped: number }
  | { ok: false; error: { type: 'duplicate_date'; field: 'holidayDate' } }
  | { ok: false; error: { type: 'too_long'; field: 'holidayUntil' } }

/** A window as the pages show it: times, and minutes for the week's timeline. */
export type WindowRow = WindowLabel & { id: number; startsAt: number; endsAt: number }

export const weekdays = [1, 2, 3, 4, 5, 6, 7] as const

/** The most days one holiday range may cover. */
export const maxHolidayDays = 366

/**
 * A start as the clock reads it (00:00 to 23:59); an end the same way,
 * except that the end of the day, minute 1440, reads 24:00.
 */
const clockTime = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`

/** A window as the pages show it and audit entries record it. */
const windowLabel = (weekday: number, start: number, end: number): WindowLabel => ({
  weekday,
  from: clockTime(start),
  until: clockTime(end),
})
const storedWindowLabel = (window: ScheduleWindow) =>
  windowLabel(window.weekday, window.startsAtMinute, window.endsAtMinute)
const windowRow = (window: ScheduleWindow): WindowRow => ({
  id: window.id,
  startsAt: window.startsAtMinute,
  endsAt: window.endsAtMinute,
  ...storedWindowLabel(window),
})

type Span = { weekday: number; start: number; end: number }

/**
 * Weekly schedules and their holidays. Every change runs in one transaction
 * with its audit entry.
 *
 * Every change to a schedule in use sends the devices of its groups
 * everything again at their next sync: terminals that decide offline
 * keep the schedules of their groups (getDbs), and the server decides at
 * the door with the same ones (AccessDecisionService).
 */
@inject()
export class ScheduleService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision
  ) {}

  /**
   * Every schedule with its windows by weekday and how many holidays and
   * groups it has; a site has a handful, so there are no pages.
   */
  async list() {
    const schedules = await Schedule.query()
      .select('schedules.*')
      .select(
        db
          .from('access_groups')
          .whereColumn('access_groups.schedule_id', 'schedules.id')
          .count('*')
          .as('groups_count')
      )
      .withCount('holidays')
      .preload('windows', (windows) => windows.orderBy('starts_at_minute').orderBy('id'))
      .orderBy('name', 'asc')
    return schedules.map((schedule) => ({
      schedule,
      week: weekdays
        .map((weekday) => ({
          weekday,
          windows: schedule.windows.filter((window) => window.weekday === weekday).map(windowRow),
        }))
        .filter((day) => day.windows.length > 0),
      holidays: Number(schedule.$extras.holidays_count),
      groups: Number(schedule.$extras.groups_count),
    }))
  }

  options() {
    return Schedule.query().orderBy('name', 'asc')
  }

  /** The schedule's week, day by day with its windows, its holidays and the groups using it. */
  async detail(schedule: Schedule) {
    const windows = await schedule
      .related('windows')
      .query()
      .orderBy('weekday')
      .orderBy('starts_at_minute')
      .orderBy('id')
    const holidays = await schedule.related('holidays').query().orderBy('date')
    const groups = await AccessGroup.query().where('schedule_id', schedule.id).orderBy('name')
    const week = weekdays.map((weekday) => ({
      weekday,
      windows: windows.filter((window) => window.weekday === weekday).map(windowRow),
    }))
    return { week, holidays, groups }
  }

  async create(actor: Actor, input: ScheduleInput): Promise<ScheduleResult> {
    return this.#write(async (trx) => {
      if (await this.#nameTaken(trx, input.name)) return duplicateName()
      const schedule = new Schedule().useTransaction(trx)
      schedule.merge({ name: input.name, description: input.description ?? null })
      await schedule.save()
      await this.audit.record(
        actor,
        { ...subject(schedule, 'schedule.create'), after: auditSnapshot(schedule) },
        trx
      )
      return { ok: true, schedule }
    })
  }

  async update(actor: Actor, schedule: Schedule, input: ScheduleInput): Promise<ScheduleResult> {
    return this.#write(async (trx) => {
      if (await this.#nameTaken(trx, input.name, schedule.id)) return duplicateName()
      schedule.useTransaction(trx)
      const before = auditSnapshot(schedule)!
      schedule.merge({ name: input.name, description: input.description ?? null })
      if (!schedule.$isDirty) return { ok: true, schedule }
      await schedule.save()
      await this.revisions.resendToDevicesOf(trx, { scheduleId: schedule.id })
      await this.audit.record(
        actor,
        {
          ...subject(schedule, 'schedule.update'),
          ...changedFields(before, auditSnapshot(schedule)!),
        },
        trx
      )
      return { ok: true, schedule }
    })
  }

  /**
   * Refused while a group uses the schedule: detaching it would quietly
   * turn those groups into "always", widening who may pass when.
   */
  async delete(actor: Actor, schedule: Schedule): Promise<ScheduleDeletion> {
    return db.transaction(async (trx) => {
      const groups = await AccessGroup.query({ client: trx })
        .where('schedule_id', schedule.id)
        .orderBy('name')
      if (groups.length > 0) {
        return { ok: false, error: { type: 'in_use', groups: groups.map((group) => group.name) } }
      }
      schedule.useTransaction(trx)
      const windows = await ScheduleWindow.query({ client: trx }).where('schedule_id', schedule.id)
      const holidays = await Holiday.query({ client: trx }).where('schedule_id', schedule.id)
      const before = {
        ...auditSnapshot(schedule),
        windows: windows.map(storedWindowLabel),
        holidays: holidays.map((holiday) => ({
          date: holiday.date.toISODate(),
          name: holiday.name,
        })),
      }
      await schedule.delete()
      await this.audit.record(actor, { ...subject(schedule, 'schedule.delete'), before }, trx)
      return { ok: true }
    })
  }

  /** One window on each of several days at once (Monday to Friday in one step). */
  addWindows(actor: Actor, schedule: Schedule, input: WindowInput): Promise<WindowsResult> {
    return db.transaction((trx) =>
      this.#place(
        actor,
        schedule,
        input.weekdays.map((weekday) => ({ weekday, start: input.startsAt, end: input.endsAt })),
        trx
      )
    )
  }

  /** Every window of one day, onto other days as well. */
  copyDay(actor: Actor, schedule: Schedule, input: CopyInput): Promise<WindowsResult> {
    return db.transaction(async (trx) => {
      const source = await ScheduleWindow.query({ client: trx })
        .where('schedule_id', schedule.id)
        .where('weekday', input.fromWeekday)
      if (source.length === 0) return { ok: false, error: { type: 'empty_day' } }
      const spans = input.toWeekdays
        .filter((weekday) => weekday !== input.fromWeekday)
        .flatMap((weekday) =>
          source.map((window) => ({
            weekday,
            start: window.startsAtMinute,
            end: window.endsAtMinute,
          }))
        )
      return this.#place(actor, schedule, spans, trx)
    })
  }

  /**
   * Adds the windows, all or none. A window that is already there is left
   * as it is; one that overlaps another window of its day is refused, and
   * then nothing is added: overlapping windows would let a schedule read
   * as something other than what it does.
   */
  async #place(
    actor: Actor,
    schedule: Schedule,
    spans: Span[],
    trx: TransactionClientContract
  ): Promise<WindowsResult> {
    const existing = await ScheduleWindow.query({ client: trx })
      .where('schedule_id', schedule.id)
      .whereIn('weekday', [...new Set(spans.map((span) => span.weekday))])
      .orderBy('weekday')
      .orderBy('starts_at_minute')
    const conflicts: WindowLabel[] = []
    const added: Span[] = []
    for (const span of spans) {
      const sameDay = existing.filter((window) => window.weekday === span.weekday)
      const same = (window: ScheduleWindow) =>
        window.startsAtMinute === span.start && window.endsAtMinute === span.end
      if (sameDay.some(same)) continue
      const overlapping = sameDay.filter(
        (window) => window.startsAtMinute < span.end && span.start < window.endsAtMinute
      )
      conflicts.push(...overlapping.map(storedWindowLabel))
      if (overlapping.length === 0) added.push(span)
    }
    if (conflicts.length > 0) return { ok: false, error: { type: 'overlap', conflicts } }
    if (added.length > 0) await this.revisions.resendToDevicesOf(trx, { scheduleId: schedule.id })
    for (const span of added) {
      await ScheduleWindow.create(
        {
          scheduleId: schedule.id,
          weekday: span.weekday,
          startsAtMinute: span.start,
          endsAtMinute: span.end,
        },
        { client: trx }
      )
      await this.audit.record(
        actor,
        {
          ...subject(schedule, 'schedule.add_window'),
          after: windowLabel(span.weekday, span.start, span.end),
        },
        trx
      )
    }
    return { ok: true, added: added.length }
  }

  /** Removing a window that is no longer there changes nothing. */
  async removeWindow(actor: Actor, schedule: Schedule, windowId: number) {
    await db.transaction(async (trx) => {
      const window = await ScheduleWindow.query({ client: trx })
        .where('schedule_id', schedule.id)
        .where('id', windowId)
        .first()
      if (!window) return
      await window.delete()
      await this.revisions.resendToDevicesOf(trx, { scheduleId: schedule.id })
      await this.audit.record(
        actor,
        { ...subject(schedule, 'schedule.remove_window'), before: storedWindowLabel(window) },
        trx
      )
    })
  }

  /**
   * A holiday on one date, or on every date of a range (a closure over the
   * new year) in one step. Dates that already are holidays of the schedule
   * keep theirs; only when every date is one is the request refused.
   */
  async addHolidays(actor: Actor, schedule: Schedule, input: HolidayInput): Promise<HolidayResult> {
    const first = DateTime.fromJSDate(input.holidayDate).startOf('day')
    const last = input.holidayUntil ? DateTime.fromJSDate(input.holidayUntil).startOf('day') : first
    const days = Math.round(last.diff(first, 'days').days) + 1
    if (days > maxHolidayDays)
      return { ok: false, error: { type: 'too_long', field: 'holidayUntil' } }
    const dates = Array.from({ length: days }, (_, index) => first.plus({ days: index }))
    try {
      return await db.transaction(async (trx) => {
        const taken = await Holiday.query({ client: trx })
          .where('schedule_id', schedule.id)
          .whereBetween('date', [first.toISODate()!, last.toISODate()!])
        const takenDates = new Set(taken.map((holiday) => holiday.date.toISODate()))
        const free = dates.filter((date) => !takenDates.has(date.toISODate()))
        if (free.length === 0) return duplicateDate()
        await this.revisions.resendToDevicesOf(trx, { scheduleId: schedule.id })
        const added: Holiday[] = []
        for (const date of free) {
          const holiday = await Holiday.create(
            { scheduleId: schedule.id, date, name: input.holidayName },
            { client: trx }
          )
          await this.audit.record(
            actor,
            {
              ...subject(schedule, 'schedule.add_holiday'),
              after: { date: date.toISODate(), name: holiday.name },
            },
            trx
          )
          added.push(holiday)
        }
        return { ok: true, added, skipped: days - free.length }
      })
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      return duplicateDate()
    }
  }

  /** Removing a holiday that is no longer there changes nothing. */
  async removeHoliday(actor: Actor, schedule: Schedule, holidayId: number) {
    await db.transaction(async (trx) => {
      const holiday = await Holiday.query({ client: trx })
        .where('schedule_id', schedule.id)
        .where('id', holidayId)
        .first()
      if (!holiday) return
      await holiday.delete()
      await this.revisions.resendToDevicesOf(trx, { scheduleId: schedule.id })
      await this.audit.record(
        actor,
        {
          ...subject(schedule, 'schedule.remove_holiday'),
          before: { date: holiday.date.toISODate(), name: holiday.name },
        },
        trx
      )
    })
  }

  async #nameTaken(trx: TransactionClientContract, name: string, exceptId?: number) {
    const query = Schedule.query({ client: trx }).where('name', name)
    if (exceptId) query.whereNot('id', exceptId)
    return Boolean(await query.first())
  }

  /**
   * A unique-constraint violation from a concurrent write of the same name
   * becomes a duplicate error rather than a 500.
   */
  async #write(
    work: (trx: TransactionClientContract) => Promise<ScheduleResult>
  ): Promise<ScheduleResult> {
    try {
      return await db.transaction(work)
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      return duplicateName()
    }
  }
}

function subject(schedule: Schedule, action: string) {
  return { action, subjectType: 'schedule', subjectId: schedule.id, subjectLabel: schedule.name }
}

const duplicateName = () =>
  ({ ok: false, error: { type: 'duplicate_name', field: 'name' } }) as const

const duplicateDate = () =>
  ({ ok: false, error: { type: 'duplicate_date', field: 'holidayDate' } }) as const
