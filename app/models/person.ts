import { DateTime } from 'luxon'
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

  /**
   * Whether the person may pass at all at `at`, before groups and
   * schedules are looked at.
   */
  isValidAt(at: DateTime = DateTime.now()) {
    if (this.status !== 'active') return false
    if (this.validFrom && at < this.validFrom) return false
    if (this.validUntil && at > this.validUntil) return false
    return true
  }
}
