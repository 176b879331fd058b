import { randomBytes } from 'node:crypto'
import { inject } from '@adonisjs/core'
import encryption from '@adonisjs/core/services/encryption'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type Device from '#models/device'
import { AuditTrail, type Actor } from '#services/audit_trail'

const purpose = 'device-credential'

/**
 * The secret a terminal signs its calls with. It is shown once, when it is
 * issued; the server keeps it encrypted with APP_KEY, since verifying an
 * HMAC needs the key itself. Issuing a new one replaces the old, which
 * stops working at once; revoking leaves the device with none.
 */
@inject()
export class DeviceCredentials {
  constructor(private audit: AuditTrail) {}

  /** A new secret for the device, returned in the clear this once. */
  async issue(actor: Actor, device: Device, trx?: TransactionClientContract) {
    const secret = DeviceCredentials.generate()
    const rotated = device.hasCredential
    await this.#inTransaction(trx, async (client) => {
      device.useTransaction(client)
      device.credentialSecret = DeviceCredentials.seal(secret)
      device.credentialIssuedAt = DateTime.now()
      await device.save()
      await this.audit.record(
        actor,
        {
          action: rotated ? 'device.credential.rotate' : 'device.credential.issue',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
        },
        client
      )
    })
    return secret
  }

  async revoke(actor: Actor, device: Device) {
    if (!device.hasCredential) return
    await db.transaction(async (trx) => {
      device.useTransaction(trx)
      device.credentialSecret = null
      device.credentialIssuedAt = null
      await device.save()
      await this.audit.record(
        actor,
        {
          action: 'device.credential.revoke',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
        },
        trx
      )
    })
  }

  /** 32 random bytes, prefixed so that secret scanners recognise a leaked one. */
  static generate() {
    return `fa1_${randomBytes(32).toString('base64url')}`
  }

  /** A secret as the devices table stores it. */
  static seal(secret: string) {
    return encryption.encrypt(secret, undefined, purpose)
  }

  /** The device's secret, for verifying its signatures; null when it has none. */
  static secretOf(device: Device): string | null {
    if (!device.credentialSecret) return null
    return encryption.decrypt<string>(device.credentialSecret, purpose)
  }

  async #inTransaction(
    trx: TransactionClientContract | undefined,
    work: (client: TransactionClientContract) => Promise<void>
  ) {
    if (trx) return work(trx)
    return db.transaction(work)
  }
}
