import { belongsTo, manyToMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, ManyToMany } from '@adonisjs/lucid/types/relations'
import { AccessGroupSchema } from '#database/schema'
import Person from '#models/person'
import Device from '#models/device'
import Schedule from '#models/schedule'

/**
 * People allowed through a set of devices, optionally only within a
 * schedule.
 */
export default class AccessGroup extends AccessGroupSchema {
  @manyToMany(() => Person, { pivotTable: 'access_group_people' })
  declare people: ManyToMany<typeof Person>

  @manyToMany(() => Device, { pivotTable: 'access_group_devices' })
  declare devices: ManyToMany<typeof Device>

  @belongsTo(() => Schedule)
  declare schedule: BelongsTo<typeof Schedule>
}
