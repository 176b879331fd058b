import { hasMany, manyToMany, belongsTo } from '@adonisjs/lucid/orm'
import type { HasMany, ManyToMany, BelongsTo } from '@adonisjs/lucid/types/relations'
import { PersonSchema } from '#database/schema'
import Face from '#models/face'
import AccessGroup from '#models/access_group'
import User from '#models/user'

export const personStatuses = ['active', 'suspended'] as const
export type PersonStatus = (typeof personStatuses)[number]

/**
 * An enrolled person. `username` is the terminal protocol's username and
 * `displayName` its faceName.
 */
export default class Person extends PersonSchema {
  static table = 'people'

  declare status: PersonStatus

  @hasMany(() => Face)
  declare faces: HasMany<typeof Face>

  @manyToMany(() => AccessGroup, { pivotTable: 'access_group_people' })
  declare accessGroups: ManyToMany<typeof AccessGroup>

  @belongsTo(() => User, { foreignKey: 'consentRecordedBy' })
  declare consentRecorder: BelongsTo<typeof User>
}
