import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import terminalConfig from '#config/terminal'
import AccessGroup from '#models/access_group'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import { AccessGroupService } from '#services/access_group_service'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { PeopleService } from '#services/people_service'
import { storedFeature } from '#faces/face_data'
import { MediaStore } from '#faces/media_store'

export type ReviewDecision =
  | { ok: true; review: EnrolmentReview; faceId: number | null; group: AccessGroup | null }
  | { ok: false; error: { type: 'person_gone' | 'unknown_group' | 'already_decided' } }

/**
 * The operator's side of enrolments from terminals. Approving a held face
 * enrols it (the face row, the rename if asked, the revision bump that
 * sends it to devices, the audit entry and every process's gallery), and
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
    private gallery: GalleryIndex,
    private media: MediaStore,
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

    const outcome = await db.transaction(async (trx) => {
      if (!(await this.#stillPending(trx, review))) return null
      person.useTransaction(trx)
      const before = person.displayName
      person.displayName = review.requestedName
      person.revision = await this.revisions.bump(trx)
      await person.save()
      // A rename sent with a photo the person already has adds no second face.
      const same = await Face.query({ client: trx })
        .where('person_id', person.id)
        .where('image_path', review.imagePath ?? '')
        .first()
      const face =
        same ??
        (await Face.create(
          {
            personId: person.id,
            embedding: review.embedding!,
            engine: review.engine!,
            modelId: review.modelId!,
            dimension: review.dimension!,
            quality: review.quality,
            source: 'terminal',
            imagePath: review.imagePath,
            box: review.box,
            landmarks: review.landmarks,
          },
          { client: trx }
        ))
      await review.useTransaction(trx).delete()
      await this.#record(trx, actor, review, 'enrolment.approve', {
        faceId: face.id,
        ...(before === review.requestedName ? {} : { displayName: review.requestedName }),
      })
      return { face, created: !same }
    })
    if (!outcome) return { ok: false, error: { type: 'already_decided' } }
    if (outcome.created) {
      await this.gallery.faceAdded({
        faceId: outcome.face.id,
        personId: person.id,
        feature: storedFeature(outcome.face),
      })
    }
    return { ok: true, review, faceId: outcome.face.id, group: null }
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
  async #removeUnused(path: string | null) {
    if (!path) return
    const [face, review] = await Promise.all([
      Face.findBy('image_path', path),
      EnrolmentReview.findBy('image_path', path),
    ])
    if (!face && !review) await this.media.remove(path)
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
