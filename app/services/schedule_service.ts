import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import AccessGroup from '#models/access_group'
import Holiday from '#models/holiday'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { uniqueViolation } from '#services/unique_violation'

export type ScheduleInput = { name: string; description?: string | null }

/** Minutes since midnight, end exclusive, as the validator gives them. */
export type WindowInput = { weekday: number; startsAt: number; endsAt: number }

export type HolidayInput = { holidayDate: Date; holidayName: string }

export type ScheduleResult =
  { ok: true; schedule: Schedule } | { ok: false; error: { type: 'duplicate_name'; field: 'name' } }

export type ScheduleDeletion =
  { ok: true } | { ok: false; error: { type: 'in_use'; groups: string[] } }

export type HolidayResult =
  | { ok: true; holiday: Holiday }
  | { ok: false; error: { type: 'duplicate_date'; field: 'holidayDate' } }

/** A window as the pages show it. */
export type WindowRow = { id: number; weekday: number; from: string; until: string }

export const weekdays = [1, 2, 3, 4, 5, 6, 7] as const

const clockTime = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`

/** A window as the pages show it and audit entries record it. */
const windowLabel = (weekday: number, start: number, end: number) => ({
  weekday,
  from: clockTime(start),
  until: clockTime(end),
})
const storedWindowLabel = (window: ScheduleWindow) =>
  windowLabel(window.weekday, window.startsAtMinute, window.endsAtMinute)
const windowRow = (window: ScheduleWindow): WindowRow => ({
  id: window.id,
  ...storedWindowLabel(window),
})

/**
 * Weekly schedules and their holidays. Every change runs in one transaction
 * with its audit entry.
 *
 * No change here bumps the face-database revision: getDbs sends who may
 * pass a device, not when, so schedules are decided at the door
 * (AccessDecisionService) and devices have nothing to resync.
 */
@inject()
export class ScheduleService {
  constructor(private audit: AuditTrail) {}

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

  async detail(schedule: Schedule) {
    const windows = await schedule
      .related('windows')
      .query()
      .orderBy('weekday')
      .orderBy('starts_at_minute')
      .orderBy('id')
    const holidays = await schedule.related('holidays').query().orderBy('date')
    const groups = await AccessGroup.query().where('schedule_id', schedule.id).orderBy('name')
    return { windows: windows.map(windowRow), holidays, groups }
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

  /** Adding a window that is already there changes nothing. */
  async addWindow(actor: Actor, schedule: Schedule, input: WindowInput) {
    await db.transaction(async (trx) => {
      const existing = await ScheduleWindow.query({ client: trx })
        .where('schedule_id', schedule.id)
        .where('weekday', input.weekday)
        .where('starts_at_minute', input.startsAt)
        .where('ends_at_minute', input.endsAt)
        .first()
      if (existing) return
      await ScheduleWindow.create(
        {
          scheduleId: schedule.id,
          weekday: input.weekday,
          startsAtMinute: input.startsAt,
          endsAtMinute: input.endsAt,
        },
        { client: trx }
      )
      await this.audit.record(
        actor,
        {
          ...subject(schedule, 'schedule.add_window'),
          after: windowLabel(input.weekday, input.startsAt, input.endsAt),
        },
        trx
      )
    })
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
      await this.audit.record(
        actor,
        { ...subject(schedule, 'schedule.remove_window'), before: storedWindowLabel(window) },
        trx
      )
    })
  }

  async addHoliday(actor: Actor, schedule: Schedule, input: HolidayInput): Promise<HolidayResult> {
    const date = DateTime.fromJSDate(input.holidayDate).startOf('day')
    try {
      return await db.transaction(async (trx) => {
        const taken = await Holiday.query({ client: trx })
          .where('schedule_id', schedule.id)
          .where('date', date.toISODate()!)
          .first()
        if (taken) return duplicateDate()
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
        return { ok: true, holiday }
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
