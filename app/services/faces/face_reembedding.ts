import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import Face from '#models/face'
import Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { FaceEnroller, faceRow } from '#services/terminal/face_enroller'
import { MediaStore } from '#faces/media_store'

export type ReembeddingReport = {
  /** The model the running engine embeds with, once a photo told. */
  model: string | null
  reembedded: number
  current: number
  withoutPhoto: number
  failed: { faceId: number; reason: string }[]
}

/**
 * Brings every enrolled face to the running engine's model, from its
 * stored enrolment photo: features of different models never compare, so
 * after a change of model the faces of the old one are invisible to
 * faceIdentify until this has run. Each face changes in place (its id and
 * photo stay), with the person's revision bump that sends it to devices,
 * an audit entry and the gallery announcement, together. Faces without a
 * stored photo cannot be redone: their people must be enrolled again.
 */
@inject()
export class FaceReembedding {
  constructor(
    private enroller: FaceEnroller,
    private media: MediaStore,
    private revisions: FaceDbRevision,
    private audit: AuditTrail,
    private gallery: GalleryIndex
  ) {}

  async run(actor: Actor, onFace?: (done: number, total: number) => void) {
    const report: ReembeddingReport = {
      model: null,
      reembedded: 0,
      current: 0,
      withoutPhoto: 0,
      failed: [],
    }
    const faces = await Face.query().orderBy('id')
    for (const [index, face] of faces.entries()) {
      onFace?.(index, faces.length)
      if (face.modelId === report.model) {
        report.current++
        continue
      }
      const photo = await this.media.locate(face.imagePath)
      if (!photo) {
        report.withoutPhoto++
        continue
      }
      const enrolment = await this.enroller.enrollPhoto(await readFile(photo.path), 'photo')
      if (!enrolment.ok) {
        report.failed.push({
          faceId: face.id,
          reason: enrolment.error.message ?? enrolment.error.type,
        })
        continue
      }
      report.model = enrolment.feature.model
      if (face.modelId === report.model) {
        report.current++
        continue
      }
      await this.#replace(actor, face, enrolment)
      report.reembedded++
    }
    onFace?.(faces.length, faces.length)
    return report
  }

  async #replace(actor: Actor, face: Face, enrolment: Parameters<typeof faceRow>[1]) {
    const before = { model: face.modelId, dimension: face.dimension }
    await db.transaction(async (trx) => {
      const row = faceRow(face.personId, enrolment, face.source, face.imagePath!)
      face.useTransaction(trx)
      face.merge({
        embedding: row.embedding,
        engine: row.engine,
        modelId: row.modelId,
        dimension: row.dimension,
        quality: row.quality,
        box: row.box,
        landmarks: row.landmarks,
      })
      await face.save()
      const person = await Person.findOrFail(face.personId, { client: trx })
      person.revision = await this.revisions.bump(trx)
      await person.save()
      await this.audit.record(
        actor,
        {
          action: 'face.reembed',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          before: { faceId: face.id, ...before },
          after: { faceId: face.id, model: face.modelId, dimension: face.dimension },
        },
        trx
      )
    })
    await this.gallery.faceAdded({
      faceId: face.id,
      personId: face.personId,
      feature: enrolment.feature,
    })
  }
}
