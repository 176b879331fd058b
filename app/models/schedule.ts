import { hasMany } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import { ScheduleSchema } from '#database/schema'
import ScheduleWindow from '#models/schedule_window'
import Holiday from '#models/holiday'

/**
 * Weekly time windows plus holidays (days on which no window applies).
 */
export default class Schedule extends ScheduleSchema {
  @hasMany(() => ScheduleWindow)
  declare windows: HasMany<typeof ScheduleWindow>

  @hasMany(() => Holiday)
  declare holidays: HasMany<typeof Holiday>
}
