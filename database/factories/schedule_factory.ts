import factory from '@adonisjs/lucid/factories'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'

/** Mondays, 08:00 to 18:00. */
export const ScheduleWindowFactory = factory
  .define(ScheduleWindow, async () => {
    return { weekday: 1, startsAtMinute: 8 * 60, endsAtMinute: 18 * 60 }
  })
  .build()

export const ScheduleFactory = factory
  .define(Schedule, async ({ faker }) => {
    return { name: `Hours ${faker.string.alphanumeric(6).toUpperCase()}` }
  })
  .relation('windows', () => ScheduleWindowFactory)
  .build()
