import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import { removeIfUnused } from '#faces/unused_photos'

export type ConsentWithdrawalResult =
  { ok: true; faces: number } | { ok: false; error: { type: 'not_on_record' } }

/**
 * A person withdraws their biometric consent: every face template and
 * enrolment photo of theirs goes, and so do faces a terminal sent for them
 * that still wait for review. The person stays, cards and access groups
 * included. The bumped revision makes devices drop them at their next
 * sync (a changed person without faces is listed in `removed`), and every
 * process's gallery forgets them.
 */
@inject()
export class ConsentWithdrawal {
  constructor(
    private audit: AuditTrail,
    private revisions: FaceDbRevision,
    private gallery: GalleryIndex,
    private media: MediaStore
  ) {}

  /** What a withdrawal would delete: the person's faces, and faces held for review. */
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

  async withdraw(actor: Actor, person: Person): Promise<ConsentWithdrawalResult> {
    const outcome = await db.transaction(async (trx) => {
      // On PostgreSQL the person's row stays locked until the withdrawal
      // commits, so that two operators confirming at once withdraw once.
      const query = Person.query({ client: trx }).where('id', person.id)
      if (trx.dialect.name === 'postgres') query.forUpdate()
      const current = await query.firstOrFail()
      if (!current.consentGivenAt) return null

      const faces = await Face.query({ client: trx }).where('person_id', person.id)
      const held = await EnrolmentReview.query({ client: trx })
        .where('person_id', person.id)
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

      const before = {
        faces: faces.length,
        heldFaces: held.length,
        consentTextVersion: current.consentTextVersion,
        consentGivenAt: current.consentGivenAt.toISO(),
      }
      current.merge({ consentGivenAt: null, consentRecordedBy: null, consentTextVersion: null })
      current.revision = await this.revisions.bump(trx)
      await current.save()
      await this.audit.record(
        actor,
        {
          action: 'person.consent_withdraw',
          subjectType: 'person',
          subjectId: current.id,
          subjectLabel: current.username,
          before,
          after: { faces: 0, heldFaces: 0, consentTextVersion: null, consentGivenAt: null },
        },
        trx
      )
      return { faces, photos: [...faces, ...held].map((row) => row.imagePath) }
    })
    if (!outcome) return { ok: false, error: { type: 'not_on_record' } }

    await this.gallery.personRemoved(person.id)
    for (const path of new Set(outcome.photos)) await removeIfUnused(this.media, path)
    return { ok: true, faces: outcome.faces.length }
  }
}
