import { randomBytes } from 'node:crypto'
import { inject } from '@adonisjs/core'
import encryption from '@adonisjs/core/services/encryption'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type Device from '#models/device'
import { AuditTrail, type Actor } from '#services/audit_trail'

const purpose = 'device-credential'

/** Secrets decrypted in this process, by ciphertext; oldest dropped first. */
const opened = new Map<string, string>()
const openedLimit = 131_072

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

  /** A sealed secret in the clear, to hand it over (a pairing terminal's); null when it does not open. */
  static open(sealed: string) {
    return encryption.decrypt<string>(sealed, purpose)
  }

  /**
   * The device's secret, for verifying its signatures; null when it has
   * none. Decrypted secrets are kept by their ciphertext (a rotated one
   * has another), a few per device at most, so a busy site does not pay
   * a decryption for every call.
   */
  static secretOf(device: Device): string | null {
    const sealed = device.credentialSecret
    if (!sealed) return null
    const known = opened.get(sealed)
    if (known !== undefined) return known
    const secret = encryption.decrypt<string>(sealed, purpose)
    if (secret === null) return null
    if (opened.size >= openedLimit) opened.delete(opened.keys().next().value!)
    opened.set(sealed, secret)
    return secret
  }

  async #inTransaction(
    trx: TransactionClientContract | undefined,
    work: (client: TransactionClientContract) => Promise<void>
  ) {
    if (trx) return work(trx)
    return db.transaction(work)
  }
}
