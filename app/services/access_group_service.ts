import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import AccessGroup from '#models/access_group'
import Device from '#models/device'
import Person from '#models/person'
import Schedule from '#models/schedule'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { uniqueViolation } from '#services/unique_violation'
import { whereAnyContains } from '#services/text_search'

export type AccessGroupInput = {
  name: string
  description?: string | null
  /** None: the group grants its devices at any time. */
  scheduleId?: number | null
}

export type AccessGroupResult =
  | { ok: true; group: AccessGroup }
  | {
      ok: false
      error:
        | { type: 'duplicate_name'; field: 'name' }
        | { type: 'unknown_schedule'; field: 'scheduleId' }
    }

export type GroupDeviceResult =
  { ok: true; device: Device } | { ok: false; error: { type: 'unknown_device' | 'not_approved' } }

/** People offered for adding, a page at a time. */
const candidatesPerPage = 20

/**
 * Access groups: which people may pass which devices, and when (a
 * schedule, or always). Every change runs in one transaction with its audit
 * entry and the face-database bookkeeping incremental device sync reads
 * (FaceDatabaseService): a person whose membership changes gets a new
 * revision, so devices receive or drop them; a device that joins or leaves
 * a group gets a new syncRevision, so it is sent everything again, as are
 * the group's devices when its name or schedule changes (offline terminals
 * keep both); a description is not sent, so changing it bumps nothing.
 */
@inject()
export class AccessGroupService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision
  ) {}

  list(page = 1, perPage = 50) {
    return AccessGroup.query()
      .preload('schedule')
      .withCount('people')
      .withCount('devices')
      .orderBy('name', 'asc')
      .orderBy('id', 'asc')
      .paginate(page, perPage)
  }

  /**
   * What the group's page shows: its members (paginated by `page`), its
   * devices, the approved devices it could add, and the people matching `q`
   * (paginated by `matches`), each marked when already a member.
   */
  async overview(
    group: AccessGroup,
    filters: { q?: string; page?: number; matches?: number },
    perPage = 50
  ) {
    await group.load('schedule')
    const people = await group
      .related('people')
      .query()
      .orderBy('display_name', 'asc')
      .orderBy('people.id', 'asc')
      .paginate(filters.page ?? 1, perPage)
    const devices = await group.related('devices').query().orderBy('name', 'asc')
    const addableDevices = await Device.query()
      .where('status', 'approved')
      .whereNotIn(
        'id',
        devices.map((device) => device.id)
      )
      .orderBy('name', 'asc')
    const candidates = filters.q
      ? await this.#candidates(group, filters.q).paginate(filters.matches ?? 1, candidatesPerPage)
      : null
    return { people, devices, addableDevices, candidates }
  }

  async create(actor: Actor, input: AccessGroupInput): Promise<AccessGroupResult> {
    return this.#write(async (trx) => {
      const refusal = await this.#refusal(trx, input)
      if (refusal) return refusal
      const group = new AccessGroup().useTransaction(trx)
      this.#apply(group, input)
      await group.save()
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.create'), after: auditSnapshot(group) },
        trx
      )
      return { ok: true, group }
    })
  }

  async update(
    actor: Actor,
    group: AccessGroup,
    input: AccessGroupInput
  ): Promise<AccessGroupResult> {
    return this.#write(async (trx) => {
      const refusal = await this.#refusal(trx, input, group.id)
      if (refusal) return refusal
      group.useTransaction(trx)
      const before = auditSnapshot(group)!
      this.#apply(group, input)
      if (!group.$isDirty) return { ok: true, group }
      const resend = 'name' in group.$dirty || 'scheduleId' in group.$dirty
      await group.save()
      if (resend) await this.revisions.resendToDevicesOf(trx, { accessGroupId: group.id })
      await this.audit.record(
        actor,
        {
          ...subject(group, 'access_group.update'),
          ...changedFields(before, auditSnapshot(group)!),
        },
        trx
      )
      return { ok: true, group }
    })
  }

  /**
   * Its devices are sent everything again, which drops the people only
   * this group let through; other devices never had them from this group,
   * so the members' revisions stay as they are.
   */
  async delete(actor: Actor, group: AccessGroup) {
    await db.transaction(async (trx) => {
      group.useTransaction(trx)
      const devices = await Device.query({ client: trx }).whereHas('accessGroups', (groups) =>
        groups.where('access_groups.id', group.id)
      )
      const members = await trx
        .from('access_group_people')
        .where('access_group_id', group.id)
        .count('* as total')
      if (devices.length > 0) {
        const revision = await this.revisions.bump(trx)
        for (const device of devices) {
          device.useTransaction(trx)
          device.syncRevision = revision
          await device.save()
        }
      }
      const before = {
        ...auditSnapshot(group),
        people: Number(members[0].total),
        devices: devices.map(deviceLabel),
      }
      await group.delete()
      await this.audit.record(actor, { ...subject(group, 'access_group.delete'), before }, trx)
    })
  }

  /** Every group by name, for a form that lets the operator tick several. */
  choices() {
    return AccessGroup.query().select('id', 'name').orderBy('name', 'asc').orderBy('id', 'asc')
  }

  /**
   * Puts a person created in the same transaction into the groups named
   * by id (ids of groups that no longer exist are passed over). The
   * person's revision is new already, so devices receive them with their
   * groups. Returns the groups joined.
   */
  async addNewPerson(
    trx: TransactionClientContract,
    actor: Actor,
    person: Person,
    groupIds: number[]
  ) {
    if (groupIds.length === 0) return []
    const groups = await AccessGroup.query({ client: trx })
      .whereIn('id', [...new Set(groupIds)])
      .orderBy('name', 'asc')
    for (const group of groups) {
      await group.related('people').attach([person.id], trx)
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.add_person'), after: personLabel(person) },
        trx
      )
    }
    return groups
  }

  /**
   * Adds several people at once (those ticked in a search, or a whole
   * department), in one transaction with an audit entry per person added;
   * members already in the group and unknown ids are passed over. Returns
   * how many joined.
   */
  async addPeople(actor: Actor, group: AccessGroup, personIds: number[]): Promise<number> {
    if (personIds.length === 0) return 0
    const added = await this.#addOnce(async (trx) => {
      const people = await Person.query({ client: trx })
        .whereIn('id', [...new Set(personIds)])
        .whereDoesntHave('accessGroups', (groups) => groups.where('access_groups.id', group.id))
        .orderBy('display_name', 'asc')
      for (const person of people) {
        await group.related('people').attach([person.id], trx)
        await this.#touch(trx, person)
        await this.audit.record(
          actor,
          { ...subject(group, 'access_group.add_person'), after: personLabel(person) },
          trx
        )
      }
      return people.length
    })
    // Another operator added some of them at the same moment: add the rest.
    return added ?? this.addPeople(actor, group, personIds)
  }

  /** Everyone of a department (as typed on the person form, any case), added at once. */
  async addDepartment(actor: Actor, group: AccessGroup, department: string) {
    const people = await Person.query()
      .whereRaw('lower(department) = ?', [department.toLowerCase()])
      .select('id')
    return this.addPeople(
      actor,
      group,
      people.map((person) => person.id)
    )
  }

  /**
   * The departments people are in, with how many of them are not yet in
   * the group, for the group page's "add a department".
   */
  async departments(group: AccessGroup) {
    const rows: { department: string; total: number | string; outside: number | string }[] =
      await db
        .from('people')
        .whereNotNull('department')
        .whereNot('department', '')
        .select('department')
        .count('* as total')
        .select(
          db.raw(
            'sum(case when not exists (select 1 from access_group_people m where m.person_id = people.id and m.access_group_id = ?) then 1 else 0 end) as outside',
            [group.id]
          )
        )
        .groupBy('department')
        .orderBy('department', 'asc')
    return rows.map((row) => ({
      name: row.department,
      total: Number(row.total),
      outside: Number(row.outside),
    }))
  }

  /** Adding a member again changes nothing. */
  async addPerson(actor: Actor, group: AccessGroup, person: Person) {
    await this.#addOnce(async (trx) => {
      if (await this.#isMember(trx, group, person)) return
      await group.related('people').attach([person.id], trx)
      await this.#touch(trx, person)
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.add_person'), after: personLabel(person) },
        trx
      )
    })
  }

  /** Removing someone who is not a member changes nothing. */
  async removePerson(actor: Actor, group: AccessGroup, person: Person) {
    await db.transaction(async (trx) => {
      if (!(await this.#isMember(trx, group, person))) return
      await group.related('people').detach([person.id], trx)
      await this.#touch(trx, person)
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.remove_person'), before: personLabel(person) },
        trx
      )
    })
  }

  /**
   * Only approved devices join a group: a pending one is not yet trusted
   * and a blocked one was turned away. Adding one again changes nothing.
   */
  async addDevice(actor: Actor, group: AccessGroup, deviceId: number): Promise<GroupDeviceResult> {
    const added = await this.#addOnce(async (trx): Promise<GroupDeviceResult> => {
      const device = await Device.find(deviceId, { client: trx })
      if (!device) return { ok: false, error: { type: 'unknown_device' } }
      if (!device.isApproved) return { ok: false, error: { type: 'not_approved' } }
      if (await this.#hasDevice(trx, group, device)) return { ok: true, device }
      await group.related('devices').attach([device.id], trx)
      await this.#regrant(trx, device)
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.add_device'), after: deviceLabel(device) },
        trx
      )
      return { ok: true, device }
    })
    if (added) return added
    return { ok: true, device: await Device.findOrFail(deviceId) }
  }

  /**
   * Runs an addition in a transaction. When another operator added the same
   * member at the same moment, the primary key refuses the second insert:
   * the group already holds what was asked, so that is no error.
   * Returns undefined in that case.
   */
  async #addOnce<Result>(work: (trx: TransactionClientContract) => Promise<Result>) {
    try {
      return await db.transaction(work)
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      return undefined
    }
  }

  /** Removing a device that is not in the group changes nothing. */
  async removeDevice(actor: Actor, group: AccessGroup, device: Device) {
    await db.transaction(async (trx) => {
      if (!(await this.#hasDevice(trx, group, device))) return
      await group.related('devices').detach([device.id], trx)
      await this.#regrant(trx, device)
      await this.audit.record(
        actor,
        { ...subject(group, 'access_group.remove_device'), before: deviceLabel(device) },
        trx
      )
    })
  }

  /** People whose username, name or department contains `q`. */
  #candidates(group: AccessGroup, q: string) {
    return whereAnyContains(Person.query(), ['username', 'display_name', 'department'], q)
      .withCount('accessGroups', (groups) => groups.where('access_groups.id', group.id))
      .orderBy('display_name', 'asc')
      .orderBy('id', 'asc')
  }

  #apply(group: AccessGroup, input: AccessGroupInput) {
    group.merge({
      name: input.name,
      description: input.description ?? null,
      scheduleId: input.scheduleId ?? null,
    })
  }

  async #refusal(trx: TransactionClientContract, input: AccessGroupInput, exceptId?: number) {
    const taken = AccessGroup.query({ client: trx }).where('name', input.name)
    if (exceptId) taken.whereNot('id', exceptId)
    if (await taken.first()) return duplicateName()
    if (input.scheduleId && !(await Schedule.find(input.scheduleId, { client: trx }))) {
      return { ok: false, error: { type: 'unknown_schedule', field: 'scheduleId' } } as const
    }
    return null
  }

  async #isMember(trx: TransactionClientContract, group: AccessGroup, person: Person) {
    const row = await trx
      .from('access_group_people')
      .where({ access_group_id: group.id, person_id: person.id })
      .first()
    return Boolean(row)
  }

  async #hasDevice(trx: TransactionClientContract, group: AccessGroup, device: Device) {
    const row = await trx
      .from('access_group_devices')
      .where({ access_group_id: group.id, device_id: device.id })
      .first()
    return Boolean(row)
  }

  /** The person is sent again, or dropped, at each device's next incremental sync. */
  async #touch(trx: TransactionClientContract, person: Person) {
    person.useTransaction(trx)
    person.revision = await this.revisions.bump(trx)
    await person.save()
  }

  /** The device's next sync sends everything, as its grants changed. */
  async #regrant(trx: TransactionClientContract, device: Device) {
    device.useTransaction(trx)
    device.syncRevision = await this.revisions.bump(trx)
    await device.save()
  }

  /**
   * A unique-constraint violation from a concurrent write of the same name
   * becomes a duplicate error rather than a 500.
   */
  async #write(
    work: (trx: TransactionClientContract) => Promise<AccessGroupResult>
  ): Promise<AccessGroupResult> {
    try {
      return await db.transaction(work)
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      return duplicateName()
    }
  }
}

function subject(group: AccessGroup, action: string) {
  return { action, subjectType: 'access_group', subjectId: group.id, subjectLabel: group.name }
}

const personLabel = (person: Person) => ({
  personId: person.id,
  username: person.username,
  displayName: person.displayName,
})

const deviceLabel = (device: Device) => ({
  deviceId: device.id,
  name: device.name,
  serialNumber: device.serialNumber,
})

const duplicateName = () =>
  ({ ok: false, error: { type: 'duplicate_name', field: 'name' } }) as const
