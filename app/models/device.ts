import { column, manyToMany } from '@adonisjs/lucid/orm'
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
 * What a device may call: recognition (faceDetect … faceIdentify), its
 * face database (getDbs), event reporting (clinetFeedback,
 * clinetWebResult) and enrolment (regFace). Installers' scripts use these
 * names (`device:approve --allow=`).
 */
export const devicePermissions = ['recognition', 'database', 'feedback', 'enrolment'] as const
export type DevicePermission = (typeof devicePermissions)[number]

/** A newly approved device may do everything but enrol faces. */
export const defaultDevicePermissions: DevicePermission[] = ['recognition', 'database', 'feedback']

/**
 * A terminal. `name` is the protocol's deviceName and `serialNumber` its sn.
 */
export default class Device extends DeviceSchema {
  declare status: DeviceStatus
  declare mode: DeviceMode
  declare requiredFactors: RequiredFactors

  /** The HMAC key of signed calls, encrypted with APP_KEY; never serialized. */
  @column({ serializeAs: null })
  declare credentialSecret: string | null

  @jsonColumn()
  declare permissions: DevicePermission[] | null

  /** SQLite answers 0 or 1. */
  @column({ consume: (value: unknown) => Boolean(value) })
  declare legacyMode: boolean

  @jsonColumn()
  declare capabilities: string[] | null

  @jsonColumn()
  declare config: Record<string, unknown> | null

  @manyToMany(() => AccessGroup, { pivotTable: 'access_group_devices' })
  declare accessGroups: ManyToMany<typeof AccessGroup>

  get isApproved() {
    return this.status === 'approved'
  }

  get hasCredential() {
    return Boolean(this.credentialSecret)
  }

  get allowed(): DevicePermission[] {
    return this.permissions ?? defaultDevicePermissions
  }

  may(permission: DevicePermission) {
    return this.allowed.includes(permission)
  }
}
