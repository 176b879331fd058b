import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import Device from '#models/device'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { uniqueViolation } from '#services/unique_violation'
import terminalConfig from '#config/terminal'
import { PendingDeviceCap } from '#services/terminal/pending_device_cap'

/**
 * The device a name and serial number name together, if any, and the one
 * they name in part (the serial number's, else the name's), against which
 * a refused call is logged.
 */
export type DeviceLookup = { device: Device | null; posedAs: Device | null }

/**
 * Finds terminals by the name and serial number they send. Both are
 * unique; a pair that names two devices, or a known one under another
 * name, is no device.
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
    const bySerial = matches.find((device) => device.serialNumber === serialNumber) ?? null
    const byName = matches.find((device) => device.name === name) ?? null
    if (bySerial && bySerial === byName) return { device: bySerial, posedAs: bySerial }
    return { device: null, posedAs: bySerial ?? byName }
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
