import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { ApiKeySchema } from '#database/schema'
import User from '#models/user'
import { jsonColumn } from '#models/json_column'

export const apiScopes = [
  'people:read',
  'people:write',
  'devices:read',
  'devices:write',
  'events:read',
  'access:write',
] as const
export type ApiScope = (typeof apiScopes)[number]

/**
 * A key an integrator's system uses on the REST API. Only a hash of the
 * secret is stored; `keyId` is the public half shown in the pages.
 */
export default class ApiKey extends ApiKeySchema {
  @jsonColumn()
  declare scopes: ApiScope[]

  @belongsTo(() => User, { foreignKey: 'createdBy' })
  declare creator: BelongsTo<typeof User>
}
