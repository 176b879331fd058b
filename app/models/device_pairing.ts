import { column } from '@adonisjs/lucid/orm'
import { DevicePairingSchema } from '#database/schema'

export const pairingStates = ['waiting', 'approved', 'delivered', 'refused'] as const
export type PairingState = (typeof pairingStates)[number]

/**
 * A terminal's request to be paired with its device (see DevicePairing).
 * A waiting request past its time has expired; it is not changed for that.
 */
export default class DevicePairing extends DevicePairingSchema {
  static table = 'device_pairings'

  declare state: PairingState

  /** The credential waiting for the terminal, encrypted with APP_KEY; never serialized. */
  @column({ serializeAs: null })
  declare credentialSecret: string | null

  @column({ serializeAs: null })
  declare keyHash: string
}
