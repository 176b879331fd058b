import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { ScheduleWindowSchema } from '#database/schema'
import Schedule from '#models/schedule'

/**
 * One weekly window: ISO weekday (1 Monday … 7 Sunday) and minutes since
 * midnight, end exclusive.
 */
export default class ScheduleWindow extends ScheduleWindowSchema {
  @belongsTo(() => Schedule)
  declare schedule: BelongsTo<typeof Schedule>
}
