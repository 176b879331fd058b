import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import Device, { type DeviceMode, type DeviceStatus, type RequiredFactors } from '#models/device'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#services/face_db_revision'
import { whereAnyContains } from '#services/text_search'

export type DeviceInput = {
  name: string
  mode: DeviceMode
  requiredFactors: RequiredFactors
  site?: string | null
  location?: string | null
}

export type DeviceResult =
  { ok: true; device: Device } | { ok: false; error: { type: 'duplicate_name' } }

/**
 * Approves, blocks and edits terminals. What an approved device may see
 * depends on its status, so status changes bump the face-database revision.
 */
@inject()
export class DeviceService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision
  ) {}

  async list(filters: { status?: DeviceStatus; q?: string; page?: number }, perPage = 50) {
    const query = Device.query().orderByRaw(`case status when 'pending' then 0 else 1 end`)
    query.orderBy('name', 'asc')
    if (filters.status) query.where('status', filters.status)
    if (filters.q) whereAnyContains(query, ['name', 'serial_number', 'location'], filters.q)
    return query.paginate(filters.page ?? 1, perPage)
  }

  findBySerial(serialNumber: string) {
    return Device.findBy('serialNumber', serialNumber)
  }

  async setStatus(actor: Actor, device: Device, status: DeviceStatus) {
    if (device.status === status) return device
    return db.transaction(async (trx) => {
      device.useTransaction(trx)
      const before = device.status
      device.status = status
      device.syncRevision = await this.revisions.bump(trx)
      await device.save()
      await this.audit.record(
        actor,
        {
          action:
            status === 'approved'
              ? 'device.approve'
              : status === 'blocked'
                ? 'device.block'
                : 'device.status',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
          before: { status: before },
          after: { status },
        },
        trx
      )
      return device
    })
  }

  async update(actor: Actor, device: Device, input: DeviceInput): Promise<DeviceResult> {
    return db.transaction(async (trx) => {
      const taken = await Device.query({ client: trx })
        .where('name', input.name)
        .whereNot('id', device.id)
        .first()
      if (taken) return { ok: false, error: { type: 'duplicate_name' } } as const

      device.useTransaction(trx)
      const before = auditSnapshot(device)!
      device.merge({
        name: input.name,
        mode: input.mode,
        requiredFactors: input.requiredFactors,
        site: input.site ?? null,
        location: input.location ?? null,
      })
      if (!device.$isDirty) return { ok: true, device } as const
      await device.save()
      await this.audit.record(
        actor,
        {
          action: 'device.update',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
          ...changedFields(before, auditSnapshot(device)!),
        },
        trx
      )
      return { ok: true, device } as const
    })
  }
}
