import { inject } from '@adonisjs/core'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import terminalConfig from '#config/terminal'
import AccessGroup from '#models/access_group'
import type Device from '#models/device'
import Face from '#models/face'
import Person from '#models/person'
import type { FaceFeature } from '#plugin-sdk'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#services/face_db_revision'
import { decodeFeature } from '#services/feature_blob'
import { GalleryIndex } from '#services/gallery_index'
import { uniqueViolation } from '#services/unique_violation'
import { FaceEnroller, faceRow, type Enrolment } from '#services/terminal/face_enroller'
import { MediaStore } from '#services/terminal/media_store'
import type { TerminalResult } from '#services/terminal/protocol'

export type RegFaceInput = {
  username: string
  faceName: string
  picture: Uint8Array
  faceData?: string
}

type Registered = { username: string; faceId: number; created: boolean }
type Stored = Registered & { personId: number }

/**
 * A sent feature belongs to the photo when the server's own feature of the
 * photo, from the same model, points the same way: the same picture gives
 * a cosine near 1 on any correct implementation of a model, another face
 * well below this.
 */
const sameFaceSimilarity = 0.9

/**
 * regFace: creates the person by username, or updates their name, and
 * adds the face of `picBase64`. The server computes the feature itself; a
 * `faceData` sent along is checked against it, never stored. The same
 * photo sent again (a retried call) adds nothing. New people join no access
 * group unless REGFACE_ACCESS_GROUP names one: an operator decides who
 * may pass.
 */
@inject()
export class FaceRegistrationService {
  constructor(
    private enroller: FaceEnroller,
    private media: MediaStore,
    private revisions: FaceDbRevision,
    private audit: AuditTrail,
    private gallery: GalleryIndex
  ) {}

  async register(
    device: Device,
    input: RegFaceInput,
    address: string
  ): Promise<TerminalResult<Registered>> {
    const claimed = input.faceData === undefined ? null : decodeFeature(input.faceData)
    if (claimed && !claimed.ok) {
      return {
        ok: false,
        error: { type: 'invalid_parameter', message: `faceData: ${claimed.error.message}` },
      }
    }
    const enrolment = await this.enroller.enrollPhoto(input.picture, 'picBase64')
    if (!enrolment.ok) return enrolment
    if (claimed) {
      const mismatch = this.#checkClaim(claimed.feature, enrolment.feature)
      if (mismatch) return mismatch
    }

    const imagePath = await this.media.saveFacePhoto(input.picture, enrolment.format)
    const actor: Actor = { userId: null, label: `device:${device.serialNumber}`, ip: address }
    const { personId, ...registered } = await this.#store(actor, input, enrolment, imagePath).catch(
      (error) => {
        if (uniqueViolation(error) === null) throw error
        return this.#store(actor, input, enrolment, imagePath)
      }
    )
    if (registered.created) {
      await this.gallery.faceAdded({
        faceId: registered.faceId,
        personId,
        feature: enrolment.feature,
      })
    }
    const message = registered.created ? 'face enrolled' : 'this photo was already enrolled'
    return { ok: true, data: registered, message }
  }

  #checkClaim(claimed: FaceFeature, computed: FaceFeature): TerminalResult<Registered> | null {
    if (claimed.model !== computed.model || claimed.vector.length !== computed.vector.length) {
      return {
        ok: false,
        error: {
          type: 'feature_model_mismatch',
          message: `faceData comes from model ${claimed.model}; this server enrols with ${computed.model}`,
        },
      }
    }
    let similarity = 0
    for (let i = 0; i < claimed.vector.length; i++)
      similarity += claimed.vector[i] * computed.vector[i]
    if (similarity >= sameFaceSimilarity) return null
    return {
      ok: false,
      error: {
        type: 'invalid_parameter',
        message: 'faceData does not describe the face in picBase64',
      },
    }
  }

  /**
   * One transaction: the person, the face, the revision bump and the audit
   * entries land together or not at all. A concurrent first enrolment of
   * the same username makes this throw a unique violation, and the caller
   * runs it once more, now finding the person.
   */
  #store(
    actor: Actor,
    input: RegFaceInput,
    enrolment: Enrolment,
    imagePath: string
  ): Promise<Stored> {
    return db.transaction(async (trx) => {
      const existing = await this.#lockedPerson(trx, input.username)
      const person = existing ?? new Person()
      person.useTransaction(trx)

      const face = existing
        ? await Face.query({ client: trx })
            .where('person_id', existing.id)
            .where('image_path', imagePath)
            .first()
        : null
      if (face && existing?.displayName === input.faceName) {
        return { username: input.username, faceId: face.id, created: false, personId: existing.id }
      }

      const revision = await this.revisions.bump(trx)
      const renamed = existing !== null && existing.displayName !== input.faceName
      const before = renamed ? { displayName: existing.displayName } : null
      person.merge({ username: input.username, displayName: input.faceName, revision })
      if (!existing) person.status = 'active'
      await person.save()
      if (!existing) await this.#joinDefaultGroup(trx, person)
      if (!existing || renamed) {
        await this.audit.record(
          actor,
          {
            action: existing ? 'person.update' : 'person.create',
            subjectType: 'person',
            subjectId: person.id,
            subjectLabel: person.username,
            before,
            after: { displayName: person.displayName },
          },
          trx
        )
      }
      if (face) {
        return { username: person.username, faceId: face.id, created: false, personId: person.id }
      }

      const created = await Face.create(faceRow(person.id, enrolment, 'terminal', imagePath), {
        client: trx,
      })
      await this.audit.record(
        actor,
        {
          action: 'face.enroll',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          after: { faceId: created.id, source: 'terminal', model: created.modelId },
        },
        trx
      )
      return { username: person.username, faceId: created.id, created: true, personId: person.id }
    })
  }

  /**
   * On PostgreSQL the person's row is locked, so that a retry racing the
   * original call sees its face. SQLite runs one transaction at a time.
   */
  #lockedPerson(trx: TransactionClientContract, username: string) {
    const query = Person.query({ client: trx }).where('username', username)
    if (trx.dialect.name === 'postgres') query.forUpdate()
    return query.first()
  }

  async #joinDefaultGroup(trx: TransactionClientContract, person: Person) {
    const name = terminalConfig.regFaceAccessGroup
    if (!name) return
    const group = await AccessGroup.query({ client: trx }).where('name', name).first()
    if (!group) {
      logger.warn({ group: name }, 'REGFACE_ACCESS_GROUP names no access group')
      return
    }
    await group.related('people').attach([person.id], trx)
  }
}
