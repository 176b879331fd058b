import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Device, {
  devicePermissions,
  type DeviceMode,
  type DevicePermission,
  type DeviceStatus,
  type RequiredFactors,
} from '#models/device'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { DeviceCredentials } from '#services/device_credentials'
import { FaceDbRevision } from '#faces/face_db_revision'
import { whereAnyContains } from '#services/text_search'
import { isRedisUnavailable } from '#services/redis_availability'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import logger from '@adonisjs/core/services/logger'

export type DeviceInput = {
  name: string
  mode: DeviceMode
  requiredFactors: RequiredFactors
  site?: string | null
  location?: string | null
  /** The device's own faceIdentify FPIR target (a fraction); none: the site's. */
  identifyTargetFpir?: number | null
  /**
   * The consent text version the terminal shows before enrolling: regFace
   * records consent for the people it enrols. None: it enrols only people
   * whose consent an operator recorded.
   */
  enrolmentConsentVersion?: string | null
}

export type DeviceResult =
  | { ok: true; device: Device }
  | { ok: false; error: { type: 'duplicate_name' | 'no_pinned_address' } }

/**
 * How a device proves itself and what it may call. A legacy device sends
 * name and serial number only, so it is pinned to one address.
 */
export type DeviceAccessInput = {
  permissions: DevicePermission[]
  legacyMode: boolean
  pinnedAddress?: string | null
}

export type DeviceAccessResult =
  { ok: true; device: Device } | { ok: false; error: { type: 'no_pinned_address' } }

export type ApprovalResult =
  | { ok: true; device: Device; secret: string | null }
  | { ok: false; error: { type: 'no_pinned_address' } }

/**
 * Approves, blocks and edits terminals. What an approved device may see
 * depends on its status, so status changes bump the face-database revision.
 */
@inject()
export class DeviceService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision,
    private credentials: DeviceCredentials,
    private tokens: DeviceTokenStore,
    private presence: DevicePresence,
    private refusals: DeviceRefusals
  ) {}

  async list(filters: { status?: DeviceStatus; q?: string; page?: number }, perPage = 50) {
    const query = Device.query().orderByRaw(`case status when 'pending' then 0 else 1 end`)
    query.orderBy('name', 'asc').orderBy('id', 'asc')
    if (filters.status) query.where('status', filters.status)
    if (filters.q) whereAnyContains(query, ['name', 'serial_number', 'location'], filters.q)
    return query.paginate(filters.page ?? 1, perPage)
  }

  findBySerial(serialNumber: string) {
    return Device.findBy('serialNumber', serialNumber)
  }

  /**
   * Approves a device. One that signs its calls gets a credential, returned
   * in the clear this once, unless it holds one already (a blocked device
   * approved again keeps its own). `access` sets its permissions and legacy
   * mode in the same step, as `node ace device:approve --legacy --allow=…`
   * does; a legacy device is pinned to the address given, else to the one
   * it last called from.
   */
  async approve(actor: Actor, device: Device, access?: DeviceAccessInput): Promise<ApprovalResult> {
    return db.transaction(async (trx) => {
      if (access) {
        const changed = await this.#applyAccess(actor, device, access, trx)
        if (!changed.ok) return changed
      }
      await this.setStatus(actor, device, 'approved', trx)
      const secret =
        device.legacyMode || device.hasCredential
          ? null
          : await this.credentials.issue(actor, device, trx)
      return { ok: true, device, secret } as const
    })
  }

  async updateAccess(
    actor: Actor,
    device: Device,
    access: DeviceAccessInput
  ): Promise<DeviceAccessResult> {
    return db.transaction((trx) => this.#applyAccess(actor, device, access, trx))
  }

  async #applyAccess(
    actor: Actor,
    device: Device,
    access: DeviceAccessInput,
    trx: TransactionClientContract
  ): Promise<DeviceAccessResult> {
    const pinnedAddress = access.legacyMode
      ? (access.pinnedAddress ?? device.pinnedAddress ?? device.lastSeenAddress)
      : null
    if (access.legacyMode && !pinnedAddress) {
      return { ok: false, error: { type: 'no_pinned_address' } }
    }
    device.useTransaction(trx)
    const before = {
      permissions: device.allowed,
      legacyMode: device.legacyMode,
      pinnedAddress: device.pinnedAddress,
    }
    const permissions = devicePermissions.filter((name) => access.permissions.includes(name))
    device.merge({ permissions, legacyMode: access.legacyMode, pinnedAddress })
    const after = { permissions, legacyMode: access.legacyMode, pinnedAddress }
    if (JSON.stringify(before) === JSON.stringify(after)) return { ok: true, device }
    await device.save()
    await this.audit.record(
      actor,
      {
        action: 'device.access',
        subjectType: 'device',
        subjectId: device.id,
        subjectLabel: `${device.name} (${device.serialNumber})`,
        ...changedFields(before, after),
      },
      trx
    )
    return { ok: true, device }
  }

  async setStatus(
    actor: Actor,
    device: Device,
    status: DeviceStatus,
    outer?: TransactionClientContract
  ) {
    if (device.status === status) return device
    const run = <T>(work: (trx: TransactionClientContract) => Promise<T>) =>
      outer ? work(outer) : db.transaction(work)
    return run(async (trx) => {
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

  /**
   * Saves the device's fields and, when given, its access, together: a
   * taken name or a legacy device with no address to pin it to changes
   * nothing.
   */
  async update(
    actor: Actor,
    device: Device,
    input: DeviceInput,
    access?: DeviceAccessInput
  ): Promise<DeviceResult> {
    return db.transaction(async (trx) => {
      const taken = await Device.query({ client: trx })
        .where('name', input.name)
        .whereNot('id', device.id)
        .first()
      if (taken) return { ok: false, error: { type: 'duplicate_name' } } as const
      if (access) {
        const changed = await this.#applyAccess(actor, device, access, trx)
        if (!changed.ok) return changed
      }

      device.useTransaction(trx)
      const before = auditSnapshot(device)!
      device.merge({
        name: input.name,
        mode: input.mode,
        requiredFactors: input.requiredFactors,
        site: input.site ?? null,
        location: input.location ?? null,
      })
      const settings = {
        identifyTargetFpir: input.identifyTargetFpir ?? null,
        enrolmentConsentVersion: input.enrolmentConsentVersion ?? null,
      }
      for (const [key, value] of Object.entries(settings)) {
        if ((device.config?.[key] ?? null) === value) continue
        const config: Record<string, unknown> = { ...device.config }
        if (value === null) delete config[key]
        else config[key] = value
        device.config = config
      }
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

  /** How many access events name the device: they stay when it is deleted. */
  async eventCount(device: Device) {
    const [row] = await db.from('access_events').where('device_id', device.id).count('* as total')
    return Number(row.total)
  }

  /**
   * Deletes a device: its row, with its credential and its access-group
   * memberships, then what Redis holds of it (tokens, last calls, refused
   * calls). Its access events stay and name it by the label they were
   * recorded with; enrolment reviews it sent keep theirs. The terminal's
   * signed calls are refused from then on; one that asks for a token
   * without a credential (reset, or legacy firmware) is registered anew as
   * pending, so a lost terminal is blocked, not deleted. Should Redis be
   * down, what it holds of the device is left to expire: no call can use
   * it, since the device is gone.
   */
  async delete(actor: Actor, device: Device) {
    const label = `${device.name} (${device.serialNumber})`
    await db.transaction(async (trx) => {
      device.useTransaction(trx)
      await device.load('accessGroups')
      const before = {
        ...auditSnapshot(device),
        accessGroups: device.accessGroups.map((group) => group.name),
      }
      await trx
        .from('access_events')
        .where('device_id', device.id)
        .whereNull('device_label')
        .update({ device_label: label })
      await device.delete()
      await this.audit.record(
        actor,
        {
          action: 'device.delete',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: label,
          before,
        },
        trx
      )
    })
    try {
      await this.tokens.revokeAll(device.id)
      await this.presence.forget(device.id)
      await this.refusals.clear(device.id)
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error
      logger.warn(
        { device: device.serialNumber },
        'deleted device: Redis unavailable, its tokens expire'
      )
    }
  }
}
