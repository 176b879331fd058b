import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import Device from '#models/device'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { uniqueViolation } from '#services/unique_violation'
import type { TerminalFailure } from '#services/terminal/protocol'

export type DeviceLookup =
  | { ok: true; device: Device }
  | { ok: false; error: Extract<TerminalFailure, { type: 'unknown_device' | 'device_mismatch' }> }

/**
 * Finds terminals by the name and serial number they send. Both are
 * unique; a pair that names two devices, or a known one under another
 * name, is a mismatch (9004) rather than a new device.
 */
@inject()
export class DeviceDirectory {
  constructor(private audit: AuditTrail) {}

  async identify(name: string, serialNumber: string): Promise<DeviceLookup> {
    const matches = await Device.query()
      .where('serial_number', serialNumber)
      .orWhere('name', name)
      .limit(2)
    const bySerial = matches.find((device) => device.serialNumber === serialNumber)
    const byName = matches.find((device) => device.name === name)
    if (bySerial && bySerial === byName) return { ok: true, device: bySerial }
    if (bySerial) {
      return {
        ok: false,
        error: {
          type: 'device_mismatch',
          message: `serial number ${serialNumber} is registered under another device name`,
        },
      }
    }
    if (byName) {
      return {
        ok: false,
        error: {
          type: 'device_mismatch',
          message: `device name "${name}" belongs to a device with another serial number`,
        },
      }
    }
    return {
      ok: false,
      error: {
        type: 'unknown_device',
        message: 'no device has this name and serial number; ask /faces/api/token first',
      },
    }
  }

  /**
   * Records a terminal seen for the first time as pending, for an operator
   * to approve. Two first requests at once register it once: the loser of
   * the race finds the winner's row.
   */
  async registerPending(name: string, serialNumber: string, address: string) {
    const actor: Actor = { userId: null, label: `device:${serialNumber}`, ip: address }
    try {
      await db.transaction(async (trx) => {
        const device = await Device.create(
          { name, serialNumber, status: 'pending', mode: 'online', requiredFactors: 'face' },
          { client: trx }
        )
        await this.audit.record(
          actor,
          {
            action: 'device.register',
            subjectType: 'device',
            subjectId: device.id,
            subjectLabel: `${name} (${serialNumber})`,
            after: { name, serialNumber, status: 'pending' },
          },
          trx
        )
      })
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
    }
    return this.identify(name, serialNumber)
  }
}
