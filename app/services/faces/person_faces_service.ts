import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import sharp from 'sharp'
import Face from '#models/face'
import Person from '#models/person'
import type { DetectedFace } from '#plugin-sdk'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import {
  EnrolmentRace,
  FaceEnrolment,
  type Confirmations,
  type EnrolmentRefusal,
} from '#faces/face_enrolment'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'

export type FaceUploadRefusal = EnrolmentRefusal | { type: 'already_enrolled'; message: string }

export type FaceUploadResult =
  { ok: true; face: Face } | { ok: false; error: FaceUploadRefusal; faces: DetectedFace[] }

/**
 * A person's face templates as the person page manages them: an
 * operator's photo goes through the one enrolment path (FaceEnrolment),
 * with the face the operator picked when the photo shows several and the
 * reasons they gave for overriding a warning; a face can be removed on
 * its own. Each change bumps the person's revision so that devices fetch
 * their faces again.
 */
@inject()
export class PersonFacesService {
  constructor(
    private enrolment: FaceEnrolment,
    private media: MediaStore,
    private revisions: FaceDbRevision,
    private audit: AuditTrail,
    private gallery: GalleryIndex
  ) {}

  /** The stored photo of one of the person's faces, when it is still on disk. */
  async photo(personId: number, faceId: number) {
    const face = await Face.query().where('person_id', personId).where('id', faceId).firstOrFail()
    return this.media.locate(face.imagePath)
  }

  /**
   * Enrols the face of an uploaded photo (a file, or a webcam capture):
   * the only face, or the `pick`-th of those found (largest first) when
   * there are several. `faces` in a refusal are the faces found, for the
   * operator to pick.
   */
  async addPhoto(
    actor: Actor,
    person: Person,
    bytes: Uint8Array,
    options: { pick?: number; confirmed?: Confirmations; source?: 'photo' | 'webcam' } = {}
  ): Promise<FaceUploadResult> {
    let read = await this.enrolment.read(bytes, { field: 'photo' })
    let faces: DetectedFace[] = read.ok ? read.faces : []
    if (!read.ok && read.error.type === 'several_faces') {
      faces = read.error.faces
      const picked = options.pick === undefined ? undefined : faces[options.pick]
      if (picked) read = await this.enrolment.read(bytes, { field: 'photo', face: picked.box })
    }
    if (!read.ok) return { ok: false, error: read.error, faces }

    let target = person
    for (let attempt = 0; ; attempt++) {
      try {
        const enrolled = await this.enrolment.enrol(actor, { person: target }, read.candidate, {
          source: options.source ?? 'photo',
          confirmed: options.confirmed,
        })
        if (!enrolled.ok) return { ok: false, error: enrolled.error, faces }
        if (!enrolled.created) {
          return {
            ok: false,
            error: { type: 'already_enrolled', message: 'this photo is already enrolled' },
            faces,
          }
        }
        return { ok: true, face: enrolled.face }
      } catch (error) {
        if (!(error instanceof EnrolmentRace) || attempt > 0) throw error
        target = await Person.findOrFail(person.id)
      }
    }
  }

  /**
   * Small JPEG crops of the faces found in a photo, as data URIs, so that
   * the operator sees whom each choice is.
   */
  async thumbnails(bytes: Uint8Array, faces: DetectedFace[]) {
    const upright = await sharp(bytes).rotate().toBuffer({ resolveWithObject: true })
    const { width, height } = upright.info
    return Promise.all(
      faces.map(async ({ box }) => {
        const margin = (box.right - box.left) * 0.2
        const left = Math.max(0, Math.floor(box.left - margin))
        const top = Math.max(0, Math.floor(box.top - margin))
        const right = Math.min(width, Math.ceil(box.right + margin))
        const bottom = Math.min(height, Math.ceil(box.bottom + margin))
        const jpeg = await sharp(upright.data)
          .extract({
            left,
            top,
            width: Math.max(1, right - left),
            height: Math.max(1, bottom - top),
          })
          .resize(96, 96, { fit: 'cover' })
          .jpeg({ quality: 80 })
          .toBuffer()
        return `data:image/jpeg;base64,${jpeg.toString('base64')}`
      })
    )
  }

  /**
   * Photos are stored by content, so the file goes only when no other face
   * or held review (the same picture sent for someone else) still uses it.
   */
  async remove(actor: Actor, person: Person, faceId: number) {
    const face = await db.transaction(async (trx) => {
      const found = await Face.query({ client: trx })
        .where('person_id', person.id)
        .where('id', faceId)
        .firstOrFail()
      await found.delete()
      await this.#changed(trx, actor, person, {
        action: 'face.delete',
        before: { faceId: found.id, source: found.source, model: found.modelId },
      })
      return found
    })
    await this.gallery.faceRemoved(face.id)
    await this.enrolment.removeUnusedPhoto(face.imagePath)
    return face
  }

  async #changed(
    trx: TransactionClientContract,
    actor: Actor,
    person: Person,
    entry: { action: string; before?: Record<string, unknown>; after?: Record<string, unknown> }
  ) {
    person.useTransaction(trx)
    person.revision = await this.revisions.bump(trx)
    await person.save()
    await this.audit.record(
      actor,
      { ...entry, subjectType: 'person', subjectId: person.id, subjectLabel: person.username },
      trx
    )
  }
}
