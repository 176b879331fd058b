import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { AccessEventSchema } from '#database/schema'
import Device from '#models/device'
import Person from '#models/person'

/** `alarm`: not a decision but what the door did by itself (forced, held open, a gate fault). */
export const accessDecisions = ['granted', 'denied', 'alarm'] as const
export type AccessDecision = (typeof accessDecisions)[number]

export const accessReasons = [
  'granted',
  'unknown_face',
  'not_authorized',
  'outside_schedule',
  'suspended',
  'expired',
  'spoof',
  'unknown_card',
  'exit_button',
  'door_forced',
  'door_held_open',
  'gate_fault',
] as const
export type AccessReason = (typeof accessReasons)[number]

/** `door`: reported by the door's gate (its contact, exit button or bus), not by a person. */
export const accessMethods = ['face', 'card', 'face_card', 'door'] as const
export type AccessMethod = (typeof accessMethods)[number]

/**
 * One access decision at a device, granted or denied, with its reason, or
 * something its door did: opened from inside, forced, held open, its gate
 * silent.
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
