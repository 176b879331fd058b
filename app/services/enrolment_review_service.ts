import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import terminalConfig from '#config/terminal'
import AccessGroup from '#models/access_group'
import Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import { AccessGroupService } from '#services/access_group_service'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { EnrolmentRace, FaceEnrolment } from '#faces/face_enrolment'
import { PeopleService } from '#services/people_service'
import { consentAt } from '#services/terminal/face_registration_service'
import { storedFeature } from '#faces/face_data'

export type ReviewDecision =
  | { ok: true; review: EnrolmentReview; faceId: number | null; group: AccessGroup | null }
  | {
      ok: false
      error: { type: 'person_gone' | 'unknown_group' | 'already_decided' | 'no_consent' }
    }

/**
 * The operator's side of enrolments from terminals. Approving a held face
 * enrols it through FaceEnrolment, the approval standing for the
 * operator's confirmation (the person's consent must still be on record),
 * with the rename if asked, in the same transaction; and
 * approving a new person adds them to the access group the operator picks
 * (REGFACE_ACCESS_GROUP preselected). Rejecting leaves nothing behind: a
 * held face's photo is deleted, and a new person is deleted with their
 * faces and photos.
 */
@inject()
export class EnrolmentReviewService {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision,
    private enrolment: FaceEnrolment,
    private people: PeopleService,
    private groups: AccessGroupService
  ) {}

  pending(page = 1, perPage = 20) {
    return EnrolmentReview.query()
      .preload('person', (person) => person.preload('faces'))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .paginate(page, perPage)
  }

  /**
   * What the review page shows: a page of pending reviews, the access
   * groups a new person may be approved into, and the one offered first.
   */
  async overview(page = 1) {
    const reviews = await this.pending(page)
    const groups = await AccessGroup.query().select('id', 'name').orderBy('name', 'asc')
    const preselected = await this.preselectedGroup()
    return { reviews, groups, preselected }
  }

  async count() {
    const [row] = await db.from('enrolment_reviews').count('* as total')
    return Number(row.total)
  }

  /** The group a reviewer is offered first for a new person. */
  async preselectedGroup() {
    const name = terminalConfig.regFaceAccessGroup
    return name ? AccessGroup.findBy('name', name) : null
  }

  async approve(
    actor: Actor,
    review: EnrolmentReview,
    options: { groupId?: number | null } = {}
  ): Promise<ReviewDecision> {
    const person = review.personId ? await Person.find(review.personId) : null
    if (!person) return { ok: false, error: { type: 'person_gone' } }

    if (review.kind === 'new_person') {
      if (!(await EnrolmentReview.find(review.id))) {
        return { ok: false, error: { type: 'already_decided' } }
      }
      const group = options.groupId ? await AccessGroup.find(options.groupId) : null
      if (options.groupId && !group) return { ok: false, error: { type: 'unknown_group' } }
      if (group) await this.groups.addPerson(actor, group, person)
      await db.transaction(async (trx) => {
        await review.useTransaction(trx).delete()
        await this.#record(trx, actor, review, 'enrolment.approve', { group: group?.name ?? null })
      })
      return { ok: true, review, faceId: review.faceId, group }
    }

    if (!(await EnrolmentReview.find(review.id))) {
      return { ok: false, error: { type: 'already_decided' } }
    }
    const decided = async (trx: TransactionClientContract, faceId: number) => {
      if (!(await this.#stillPending(trx, review))) throw new AlreadyDecided()
      const before = person.displayName
      if (before !== review.requestedName) {
        person.useTransaction(trx)
        person.displayName = review.requestedName
        person.revision = await this.revisions.bump(trx)
        await person.save()
      }
      await review.useTransaction(trx).delete()
      await this.#record(trx, actor, review, 'enrolment.approve', {
        faceId,
        ...(before === review.requestedName ? {} : { displayName: review.requestedName }),
      })
    }
    const reason = `enrolment review ${review.id} approved`
    // Consent the terminal recorded when it sent the face comes with it.
    const device = review.deviceId ? await Device.find(review.deviceId) : null
    let enrolled
    try {
      enrolled = await this.enrolment.enrol(
        actor,
        { person },
        {
          engine: review.engine!,
          face: { box: review.box, landmarks: review.landmarks },
          feature: storedFeature({
            embedding: review.embedding!,
            modelId: review.modelId!,
            dimension: review.dimension!,
          }),
          quality: review.quality,
          photo: { imagePath: review.imagePath! },
        },
        {
          source: 'terminal',
          confirmed: { samePerson: reason, differentPeople: reason },
          consent: device ? consentAt(device) : undefined,
          within: (trx, _person, face) => decided(trx, face.id),
        }
      )
      // A rename sent with a photo the person already has adds no second face.
      if (enrolled.ok && !enrolled.created) {
        const faceId = enrolled.face.id
        await db.transaction((trx) => decided(trx, faceId))
      }
    } catch (error) {
      if (error instanceof AlreadyDecided || error instanceof EnrolmentRace) {
        return { ok: false, error: { type: 'already_decided' } }
      }
      throw error
    }
    if (!enrolled.ok) {
      if (enrolled.error.type === 'no_consent') return { ok: false, error: { type: 'no_consent' } }
      throw new Error(`an approved enrolment was refused: ${enrolled.error.message}`)
    }
    return { ok: true, review, faceId: enrolled.face.id, group: null }
  }

  /**
   * Whether nobody decided the review meanwhile; on PostgreSQL its row is
   * locked until the decision commits (SQLite runs one transaction at a
   * time), so that two operators approving at once enrol the face once.
   */
  async #stillPending(trx: TransactionClientContract, review: EnrolmentReview) {
    const query = EnrolmentReview.query({ client: trx }).where('id', review.id)
    if (trx.dialect.name === 'postgres') query.forUpdate()
    return Boolean(await query.first())
  }

  async reject(actor: Actor, review: EnrolmentReview) {
    if (review.kind === 'new_person') {
      const person = review.personId ? await Person.find(review.personId) : null
      if (person) {
        const faces = await Face.query().where('person_id', person.id)
        const photos = faces.map((face) => face.imagePath)
        await this.people.delete(actor, person)
        for (const path of photos) await this.#removeUnused(path)
      }
      await db.transaction(async (trx) => {
        const pending = await EnrolmentReview.query({ client: trx }).where('id', review.id).first()
        await pending?.delete()
        await this.#record(trx, actor, review, 'enrolment.reject', {})
      })
      return
    }
    await db.transaction(async (trx) => {
      await review.useTransaction(trx).delete()
      await this.#record(trx, actor, review, 'enrolment.reject', {})
    })
    await this.#removeUnused(review.imagePath)
  }

  /** Photos are stored by content: one goes only when no face or review still uses it. */
  #removeUnused(path: string | null) {
    return this.enrolment.removeUnusedPhoto(path)
  }

  #record(
    trx: TransactionClientContract,
    actor: Actor,
    review: EnrolmentReview,
    action: string,
    after: Record<string, unknown>
  ) {
    return this.audit.record(
      actor,
      {
        action,
        subjectType: 'person',
        subjectId: review.personId,
        subjectLabel: review.username,
        before: {
          reviewId: review.id,
          kind: review.kind,
          reasons: review.reasons,
          device: review.deviceLabel,
        },
        after,
      },
      trx
    )
  }
}

/** Another operator decided the review first. */
class AlreadyDecided extends Error {}
