import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Face from '#models/face'
import type Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { FaceEnroller, faceRow } from '#services/terminal/face_enroller'
import { MediaStore } from '#faces/media_store'

/** Why an uploaded photo enrolled nothing; each is a message of `people.faces.errors`. */
export type FaceUploadError =
  'not_image' | 'too_large' | 'no_face' | 'no_engine' | 'already_enrolled'

export type FaceUploadResult = { ok: true; face: Face } | { ok: false; error: FaceUploadError }

const uploadErrors: Record<string, FaceUploadError> = {
  not_image: 'not_image',
  unreadable_file: 'not_image',
  image_too_large: 'too_large',
  no_face: 'no_face',
  engine_unavailable: 'no_engine',
}

/**
 * A person's face templates as the person page manages them: photos
 * uploaded by an operator are enrolled exactly as regFace enrols a
 * terminal's (the same enroller, the same Face columns), and a face can be
 * removed on its own. Each change bumps the person's revision so that
 * devices fetch their faces again.
 */
@inject()
export class PersonFacesService {
  constructor(
    private enroller: FaceEnroller,
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
   * The uploaded file at `uploadPath` is stored only once the engine has
   * found a face in it, so a refused upload leaves neither a row nor a file.
   */
  async addPhoto(actor: Actor, person: Person, uploadPath: string): Promise<FaceUploadResult> {
    const bytes = await readFile(uploadPath)
    const enrolment = await this.enroller.enrollPhoto(bytes, 'photo')
    if (!enrolment.ok) {
      const error = uploadErrors[enrolment.error.type]
      // The enroller fails only in the ways above; anything else is a server fault.
      if (!error) throw new Error(`unexpected enrolment failure: ${enrolment.error.message}`)
      return { ok: false, error }
    }
    const imagePath = await this.media.saveFacePhoto(bytes, enrolment.format)
    const face = await db.transaction(async (trx) => {
      const same = await Face.query({ client: trx })
        .where('person_id', person.id)
        .where('image_path', imagePath)
        .first()
      if (same) return null
      const created = await Face.create(faceRow(person.id, enrolment, 'photo', imagePath), {
        client: trx,
      })
      await this.#changed(trx, actor, person, {
        action: 'face.create',
        after: { faceId: created.id, source: 'photo', model: created.modelId },
      })
      return created
    })
    if (!face) return { ok: false, error: 'already_enrolled' }
    await this.gallery.faceAdded({
      faceId: face.id,
      personId: person.id,
      feature: enrolment.feature,
    })
    return { ok: true, face }
  }

  /**
   * Photos are stored by content, so the file goes only when no other face
   * (another person enrolled from the same picture) still points at it.
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
    if (face.imagePath && !(await Face.findBy('image_path', face.imagePath))) {
      await this.media.remove(face.imagePath)
    }
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
