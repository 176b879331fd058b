import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Person, { type PersonStatus } from '#models/person'
import { AccessGroupService } from '#services/access_group_service'
import { AuditTrail, auditSnapshot, changedFields, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { uniqueViolation } from '#services/unique_violation'
import { whereAnyContains } from '#services/text_search'

export type PersonInput = {
  displayName: string
  cardNumber?: string | null
  department?: string | null
  status: PersonStatus
  validFrom?: Date | null
  validUntil?: Date | null
  notes?: string | null
  /** Whether the person has given consent; left out, consent stays as it is. */
  consentGiven?: boolean
  /**
   * The form showed the consent box. An unticked box is not sent, so then a
   * missing `consentGiven` means it was unticked.
   */
  consentShown?: boolean
  consentTextVersion?: string | null
}

export type PersonFailure = {
  ok: false
  error: { type: 'duplicate'; field: 'username' | 'cardNumber' }
}
/**
 * `withdrawConsent`: the input takes back the consent on record. That
 * deletes the person's faces, so it is not done here but waits for the
 * operator to confirm it (ConsentWithdrawal); the other changes are saved.
 */
export type PersonResult = { ok: true; person: Person; withdrawConsent?: boolean } | PersonFailure

const toDateTime = (value?: Date | null) => (value ? DateTime.fromJSDate(value) : null)

/**
 * Creates, changes and removes enrolled people. Every change runs in one
 * transaction with its audit entry and bumps the face-database revision.
 */
@inject()
export class PeopleService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision,
    private gallery: GalleryIndex,
    private groups: AccessGroupService
  ) {}

  async search(filters: { q?: string; status?: PersonStatus; page?: number }, perPage = 25) {
    const query = Person.query().orderBy('display_name', 'asc').orderBy('id', 'asc')
    if (filters.q) {
      whereAnyContains(query, ['username', 'display_name', 'card_number', 'department'], filters.q)
    }
    if (filters.status) query.where('status', filters.status)
    query.withCount('faces')
    return query.paginate(filters.page ?? 1, perPage)
  }

  /**
   * A new person, with their consent when given and in the access groups
   * named by `accessGroupIds`, all in one transaction.
   */
  async create(
    actor: Actor,
    input: PersonInput & { username: string; accessGroupIds?: number[] }
  ): Promise<PersonResult> {
    return this.#write(async (trx) => {
      const duplicate = await this.#findDuplicate(trx, input.username, input.cardNumber ?? null)
      if (duplicate) return duplicate

      const person = new Person().useTransaction(trx)
      person.username = input.username
      this.#apply(person, actor, input)
      person.revision = await this.revisions.bump(trx)
      await person.save()

      await this.audit.record(
        actor,
        {
          action: 'person.create',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          after: auditSnapshot(person),
        },
        trx
      )
      await this.groups.addNewPerson(trx, actor, person, input.accessGroupIds ?? [])
      return { ok: true, person }
    })
  }

  async update(actor: Actor, person: Person, input: PersonInput): Promise<PersonResult> {
    return this.#write(async (trx) => {
      person.useTransaction(trx)
      const duplicate = await this.#findDuplicate(trx, null, input.cardNumber ?? null, person.id)
      if (duplicate) return duplicate

      const withdrawConsent =
        Boolean(person.consentGivenAt) &&
        (input.consentGiven === false || (input.consentShown === true && !input.consentGiven))
      const before = auditSnapshot(person)!
      this.#apply(person, actor, input)
      if (!person.$isDirty) return { ok: true, person, withdrawConsent }
      person.revision = await this.revisions.bump(trx)
      await person.save()

      const changes = changedFields(before, auditSnapshot(person)!)
      await this.audit.record(
        actor,
        {
          action: 'person.update',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          ...changes,
        },
        trx
      )
      return { ok: true, person, withdrawConsent }
    })
  }

  async setStatus(actor: Actor, person: Person, status: PersonStatus) {
    if (person.status === status) return person
    return db.transaction(async (trx) => {
      person.useTransaction(trx)
      const before = person.status
      person.status = status
      person.revision = await this.revisions.bump(trx)
      await person.save()
      await this.audit.record(
        actor,
        {
          action: status === 'suspended' ? 'person.suspend' : 'person.reinstate',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          before: { status: before },
          after: { status },
        },
        trx
      )
      return person
    })
  }

  async delete(actor: Actor, person: Person) {
    await db.transaction(async (trx) => {
      person.useTransaction(trx)
      const before = auditSnapshot(person)
      const revision = await this.revisions.bump(trx)
      await this.revisions.tombstone(trx, person.username, revision)
      await person.delete()
      await this.audit.record(
        actor,
        {
          action: 'person.delete',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          before,
        },
        trx
      )
    })
    await this.gallery.personRemoved(person.id)
  }

  #apply(person: Person, actor: Actor, input: PersonInput) {
    person.merge({
      displayName: input.displayName,
      cardNumber: input.cardNumber ?? null,
      department: input.department ?? null,
      status: input.status,
      notes: input.notes ?? null,
    })
    const validFrom = toDateTime(input.validFrom)
    const validUntil = toDateTime(input.validUntil)
    if (person.validFrom?.toMillis() !== validFrom?.toMillis()) person.validFrom = validFrom
    if (person.validUntil?.toMillis() !== validUntil?.toMillis()) person.validUntil = validUntil

    if (input.consentGiven && !person.consentGivenAt) {
      person.consentGivenAt = DateTime.now()
      person.consentRecordedBy = actor.userId
      person.consentTextVersion = input.consentTextVersion ?? null
    }
  }

  async #findDuplicate(
    trx: TransactionClientContract,
    username: string | null,
    cardNumber: string | null,
    exceptId?: number
  ): Promise<PersonFailure | null> {
    if (username) {
      const taken = await Person.query({ client: trx }).where('username', username).first()
      if (taken) return { ok: false, error: { type: 'duplicate', field: 'username' } }
    }
    if (cardNumber) {
      const query = Person.query({ client: trx }).where('card_number', cardNumber)
      if (exceptId) query.whereNot('id', exceptId)
      if (await query.first())
        return { ok: false, error: { type: 'duplicate', field: 'cardNumber' } }
    }
    return null
  }

  /**
   * Runs a write in a transaction. A unique-constraint violation from a
   * concurrent write of the same username or card becomes a duplicate
   * error rather than a 500.
   */
  async #write(
    work: (trx: TransactionClientContract) => Promise<PersonResult>
  ): Promise<PersonResult> {
    try {
      return await db.transaction(work)
    } catch (error) {
      const violation = uniqueViolation(error)
      if (violation === null) throw error
      const field = violation.includes('card_number') ? 'cardNumber' : 'username'
      return { ok: false, error: { type: 'duplicate', field } }
    }
  }
}
