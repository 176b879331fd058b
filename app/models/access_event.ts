import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { AccessEventSchema } from '#database/schema'
import Device from '#models/device'
import Person from '#models/person'

export const accessDecisions = ['granted', 'denied'] as const
export type AccessDecision = (typeof accessDecisions)[number]

export const accessReasons = [
  'granted',
  'unknown_face',
  'not_authorized',
  'outside_schedule',
  'suspended',
  'expired',
  'spoof',
] as const
export type AccessReason = (typeof accessReasons)[number]

export const accessMethods = ['face', 'card', 'face_card'] as const
export type AccessMethod = (typeof accessMethods)[number]

/**
 * One access decision at a device, granted or denied, with its reason.
 */
export default class AccessEvent extends AccessEventSchema {
  declare decision: AccessDecision
  declare reason: AccessReason
  declare method: AccessMethod

  @belongsTo(() => Device)
  declare device: BelongsTo<typeof Device>

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>
}
