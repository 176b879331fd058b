import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { AuditLogSchema } from '#database/schema'
import User from '#models/user'
import { jsonColumn } from '#models/json_column'

/**
 * Who changed what, from where, with the record before and after.
 */
export default class AuditLog extends AuditLogSchema {
  @jsonColumn()
  declare before: Record<string, unknown> | null

  @jsonColumn()
  declare after: Record<string, unknown> | null

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>
}
