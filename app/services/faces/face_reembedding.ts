import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import Face from '#models/face'
import Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { embeddingBytes } from '#faces/face_data'
import { FacePhotoAnalyser, type AnalysedFace } from '#faces/face_photo_analyser'
import { withDecodedPhoto } from '#faces/photo_decoding'
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
    private analyser: FacePhotoAnalyser,
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
      const analysed = await this.#analyse(face, await readFile(photo.path))
      if (!analysed.ok) {
        report.failed.push({ faceId: face.id, reason: analysed.error.message })
        continue
      }
      report.model = analysed.chosen.feature.model
      if (face.modelId === report.model) {
        report.current++
        continue
      }
      await this.#replace(actor, face, analysed.chosen)
      report.reembedded++
    }
    onFace?.(faces.length, faces.length)
    return report
  }

  /** The same face of the stored photo (the one in its box), described by the running engine. */
  #analyse(face: Face, bytes: Uint8Array) {
    return withDecodedPhoto(bytes, 'photo', async (decoded) => {
      const analysed = await this.analyser.analyse(decoded.image, face.box ?? undefined)
      if (!analysed.ok) {
        return {
          ok: false as const,
          error: { message: analysed.error.message ?? analysed.error.type },
        }
      }
      return analysed
    })
  }

  async #replace(actor: Actor, face: Face, analysed: AnalysedFace) {
    const before = { model: face.modelId, dimension: face.dimension }
    await db.transaction(async (trx) => {
      face.useTransaction(trx)
      face.merge({
        embedding: embeddingBytes(analysed.feature.vector),
        engine: analysed.engine,
        modelId: analysed.feature.model,
        dimension: analysed.feature.vector.length,
        quality: analysed.quality?.score ?? null,
        box: analysed.face.box,
        landmarks: analysed.face.landmarks,
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
      feature: analysed.feature,
    })
  }
}
