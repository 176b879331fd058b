import vine from '@vinejs/vine'
import type { FieldContext } from '@vinejs/vine/types'
import type { I18n } from '@adonisjs/i18n'

/** Field names and messages of the schedule forms, from resources/lang/<locale>/schedules.json. */
export const scheduleMessages = (i18n: I18n) => ({
  messagesProvider: i18n.createMessagesProvider('schedules.validator'),
})

const clock = /^(?:[01]\d|2[0-3]):[0-5]\d$/

/**
 * The end of a window may also be 24:00, or 00:00 (what a time picker
 * offers for midnight), both meaning the end of the day: windows are
 * end-exclusive minutes, so a day that runs to midnight ends at 1440.
 */
const endClock = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/

const minuteOf = (value: string) => {
  const [hours, minutes] = value.split(':').map(Number)
  return hours * 60 + minutes
}
const endMinuteOf = (value: string) => minuteOf(value) || 24 * 60

const endsAfterStart = vine.createRule(
  (value: unknown, _options: undefined, field: FieldContext) => {
    const start = String(field.parent?.startsAt ?? '').trim()
    if (typeof value !== 'string' || !clock.test(start)) return
    if (endMinuteOf(value) <= minuteOf(start)) {
      field.report('The end must be after the start', 'endsAfterStart', field)
    }
  }
)

export const scheduleValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(120),
  description: vine.string().trim().maxLength(255).optional(),
})

/** ISO weekdays, 1 (Monday) to 7, as the day checkboxes send them; at least one. */
const weekdayList = () =>
  vine.array(vine.number().withoutDecimals().min(1).max(7)).minLength(1).distinct()

/**
 * A weekly window on one or more days: ISO weekdays and times as minutes
 * since midnight.
 */
export const scheduleWindowValidator = vine.create({
  weekdays: weekdayList(),
  startsAt: vine.string().trim().regex(clock).transform(minuteOf),
  endsAt: vine.string().trim().regex(endClock).use(endsAfterStart()).transform(endMinuteOf),
})

/** The windows of one day, copied to the days ticked. */
export const copyDayValidator = vine.create({
  fromWeekday: vine.number().withoutDecimals().min(1).max(7),
  toWeekdays: weekdayList(),
})

/**
 * Named apart from the schedule's own `name`, so that the schedule page's
 * forms keep their typed values and errors apart.
 */
export const holidayValidator = vine.create({
  holidayDate: vine.date({ formats: ['YYYY-MM-DD'] }),
  /** The last day of a range of holidays; none: the one date. */
  holidayUntil: vine
    .date({ formats: ['YYYY-MM-DD'] })
    .afterOrSameAs('holidayDate')
    .optional(),
  holidayName: vine.string().trim().minLength(1).maxLength(120),
})
