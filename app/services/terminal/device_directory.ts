import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import Device from '#models/device'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { uniqueViolation } from '#services/unique_violation'
import terminalConfig from '#config/terminal'
import { PendingDeviceCap } from '#services/terminal/pending_device_cap'
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
  constructor(
    private audit: AuditTrail,
    private pendingCap: PendingDeviceCap
  ) {}

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
   * The device a call poses as when its name and serial number do not
   * match: the one with that serial number, else the one with that name.
   */
  async named(name: string, serialNumber: string) {
    const matches = await Device.query()
      .where('serial_number', serialNumber)
      .orWhere('name', name)
      .limit(2)
    return (
      matches.find((device) => device.serialNumber === serialNumber) ??
      matches.find((device) => device.name === name) ??
      null
    )
  }

  /**
   * Records a terminal seen for the first time as pending, for an operator
   * to approve, unless the caps on pending devices are reached (per first
   * address and in all): a stranger inventing serial numbers fills neither
   * the Devices page nor the database. Two first requests at once register
   * it once: the loser of the race finds the winner's row.
   */
  async registerPending(name: string, serialNumber: string, address: string) {
    const full = await this.pendingCapReached(address)
    if (full) {
      await this.pendingCap.refused(address)
      return null
    }
    const actor: Actor = { userId: null, label: `device:${serialNumber}`, ip: address }
    try {
      return await db.transaction(async (trx) => {
        const device = await Device.create(
          {
            name,
            serialNumber,
            status: 'pending',
            mode: 'online',
            requiredFactors: 'face',
            registeredAddress: address,
            lastSeenAddress: address,
            lastSeenAt: DateTime.now(),
          },
          { client: trx }
        )
        await this.audit.record(
          actor,
          {
            action: 'device.register',
            subjectType: 'device',
            subjectId: device.id,
            subjectLabel: `${name} (${serialNumber})`,
            after: { name, serialNumber, status: 'pending', address },
          },
          trx
        )
        return device
      })
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      return null
    }
  }

  /** Which cap on pending devices a new one from `address` would exceed, if any. */
  async pendingCapReached(address: string): Promise<'address' | 'total' | null> {
    const { pendingPerAddress, pendingTotal } = terminalConfig.auth
    const [row] = await Device.query()
      .where('status', 'pending')
      .select(
        db.raw('count(*) as total'),
        db.raw('sum(case when registered_address = ? then 1 else 0 end) as here', [address])
      )
      .pojo<{ total: number | string; here: number | string | null }>()
    if (Number(row.total) >= pendingTotal) return 'total'
    if (Number(row.here ?? 0) >= pendingPerAddress) return 'address'
    return null
  }
}
