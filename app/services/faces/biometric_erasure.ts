import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import { removeIfUnused } from '#faces/unused_photos'

/** Who erases when no operator does: a rule the server applies by itself. */
export function systemActor(rule: string): Actor {
  return { userId: null, label: `system:${rule}`, ip: null }
}

export type ErasureRequest = {
  /** The audit action that records the erasure. */
  action: string
  /**
   * Decides, on the person's row as it is inside the erasure's
   * transaction (locked on PostgreSQL), whether the erasure still applies;
   * when it does not, nothing changes. This is what makes a repeated or
   * concurrent erasure change nothing twice.
   */
  applies?: (current: Person, trx: TransactionClientContract) => boolean | Promise<boolean>
  /**
   * Further changes to the person saved with the erasure (consent taken
   * back), with the fields they change for the audit entry.
   */
  alter?: (current: Person) => { before: Record<string, unknown>; after: Record<string, unknown> }
  /** Why, kept in the audit entry: the rule and its numbers. */
  reason?: Record<string, unknown>
}

export type ErasureOutcome = { faces: number; heldFaces: number; revision: number }

/**
 * Erases a person's biometric data: their face templates, their
 * enrolment photos with the thumbnails made of them, and faces a terminal
 * sent for them that still wait for review. The person stays, cards and
 * access groups included.
 *
 * In one transaction the rows go, the face-database revision is bumped,
 * a tombstone records the username at that revision (devices drop the
 * person at their next `getDbs since`, and each device's acknowledged
 * revision tells whether it has) and the audit entry is written. Every
 * process's gallery forgets the person and the photos nothing else uses
 * are deleted once it has committed. A withdrawn consent
 * (ConsentWithdrawal) and biometric retention (RetentionService) erase
 * through here; deleting the person (PeopleService.delete) takes the whole
 * record instead, with a tombstone of its own.
 */
@inject()
export class BiometricErasure {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision,
    private gallery: GalleryIndex,
    private media: MediaStore
  ) {}

  /** What an erasure would delete: the person's faces, and faces held for review. */
  async preview(person: Person) {
    const [faces, heldFaces] = await Promise.all([
      Face.query().where('person_id', person.id).count('* as total').firstOrFail(),
      EnrolmentReview.query()
        .where('person_id', person.id)
        .where('kind', 'face_change')
        .count('* as total')
        .firstOrFail(),
    ])
    return {
      faces: Number(faces.$extras.total),
      heldFaces: Number(heldFaces.$extras.total),
    }
  }

  /**
   * Erases the person's biometric data, or returns null when the person
   * is gone or `applies` says the erasure no longer applies.
   */
  async erase(
    actor: Actor,
    person: Pick<Person, 'id'>,
    request: ErasureRequest
  ): Promise<ErasureOutcome | null> {
    const outcome = await db.transaction(async (trx) => {
      // On PostgreSQL the person's row stays locked until the erasure
      // commits, so that two erasures at once erase once.
      const query = Person.query({ client: trx }).where('id', person.id)
      if (trx.dialect.name === 'postgres') query.forUpdate()
      const current = await query.first()
      if (!current) return null
      if (request.applies && !(await request.applies(current, trx))) return null

      const faces = await Face.query({ client: trx }).where('person_id', current.id)
      const held = await EnrolmentReview.query({ client: trx })
        .where('person_id', current.id)
        .where('kind', 'face_change')
      await Face.query({ client: trx })
        .whereIn(
          'id',
          faces.map((face) => face.id)
        )
        .delete()
      await EnrolmentReview.query({ client: trx })
        .whereIn(
          'id',
          held.map((review) => review.id)
        )
        .delete()

      const changes = request.alter?.(current) ?? { before: {}, after: {} }
      const revision = await this.revisions.bump(trx)
      current.revision = revision
      current.useTransaction(trx)
      await current.save()
      await this.revisions.tombstone(trx, current.username, revision)
      await this.audit.record(
        actor,
        {
          action: request.action,
          subjectType: 'person',
          subjectId: current.id,
          subjectLabel: current.username,
          before: { faces: faces.length, heldFaces: held.length, ...changes.before },
          after: { faces: 0, heldFaces: 0, ...changes.after, ...request.reason },
        },
        trx
      )
      return {
        faces: faces.length,
        heldFaces: held.length,
        revision,
        photos: [...faces, ...held].map((row) => row.imagePath),
      }
    })
    if (!outcome) return null

    await this.gallery.personRemoved(person.id)
    for (const path of new Set(outcome.photos)) await removeIfUnused(this.media, path)
    return { faces: outcome.faces, heldFaces: outcome.heldFaces, revision: outcome.revision }
  }
}
