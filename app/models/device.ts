import { manyToMany } from '@adonisjs/lucid/orm'
import type { ManyToMany } from '@adonisjs/lucid/types/relations'
import { DeviceSchema } from '#database/schema'
import AccessGroup from '#models/access_group'
import { jsonColumn } from '#models/json_column'

export const deviceStatuses = ['pending', 'approved', 'blocked'] as const
export type DeviceStatus = (typeof deviceStatuses)[number]

export const deviceModes = ['online', 'offline'] as const
export type DeviceMode = (typeof deviceModes)[number]

export const requiredFactors = ['face', 'card', 'face_card'] as const
export type RequiredFactors = (typeof requiredFactors)[number]

/**
 * A terminal. `name` is the protocol's deviceName and `serialNumber` its sn.
 */
export default class Device extends DeviceSchema {
  declare status: DeviceStatus
  declare mode: DeviceMode
  declare requiredFactors: RequiredFactors

  @jsonColumn()
  declare capabilities: string[] | null

  @jsonColumn()
  declare config: Record<string, unknown> | null

  @manyToMany(() => AccessGroup, { pivotTable: 'access_group_devices' })
  declare accessGroups: ManyToMany<typeof AccessGroup>

  get isApproved() {
    return this.status === 'approved'
  }
}
