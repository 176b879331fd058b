import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { HolidaySchema } from '#database/schema'
import Schedule from '#models/schedule'

export default class Holiday extends HolidaySchema {
  @belongsTo(() => Schedule)
  declare schedule: BelongsTo<typeof Schedule>
}
