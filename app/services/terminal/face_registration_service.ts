import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type Device from '#models/device'
import EnrolmentReview, { type EnrolmentReviewReason } from '#models/enrolment_review'
import Face from '#models/face'
import Person from '#models/person'
import type { FaceFeature } from '#plugin-sdk'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { decodeFeature } from '#faces/feature_blob'
import { GalleryIndex } from '#faces/gallery_index'
import { answeredScore, matchThreshold, RecognitionEngine } from '#faces/recognition_engine'
import { uniqueViolation } from '#services/unique_violation'
import { storedFeature, embeddingBytes } from '#faces/face_data'
import { FaceEnroller, faceRow, type Enrolment } from '#services/terminal/face_enroller'
import { MediaStore } from '#faces/media_store'
import type { TerminalResult } from '#services/terminal/protocol'

export type RegFaceInput = {
  username: string
  faceName: string
  picture: Uint8Array
  faceData?: string
}

type Registered = { username: string; faceId: number; created: boolean }
type Stored = Registered & { personId: number; newPerson: boolean }

/**
 * A sent feature belongs to the photo when the server's own feature of the
 * photo, from the same model, points the same way: the same picture gives
 * a cosine near 1 on any correct implementation of a model, another face
 * well below this.
 */
const sameFaceSimilarity = 0.9

/** What an enrolment for an existing person needs before it may land without an operator. */
type Check = { reasons: EnrolmentReviewReason[]; score: number | null }

/**
 * regFace: a terminal allowed to enrol creates a person by username, or
 * adds a face to one. The server computes the feature itself; a `faceData`
 * sent along is checked against it, never stored. A face for an existing
 * person lands only when it matches their enrolled faces at the 1:1
 * threshold and the name is unchanged; otherwise it is held for an
 * operator's review (code 5), so that nobody can put their own face on
 * an employee by knowing a username. A person a terminal creates joins no
 * access group until an operator approves them. The same photo sent again
 * (a retried call) adds nothing.
 */
@inject()
export class FaceRegistrationService {
  constructor(
    private enroller: FaceEnroller,
    private recognition: RecognitionEngine,
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
    const attempt = async () => {
      const person = await Person.findBy('username', input.username)
      const check = person ? await this.#check(person, input, enrolment, imagePath) : null
      if (person && check && check.reasons.length > 0) {
        return this.#hold(actor, device, person, input, enrolment, imagePath, check)
      }
      return this.#store(actor, device, person?.id ?? null, input, enrolment, imagePath)
    }
    const outcome = await attempt().catch((error) => {
      if (uniqueViolation(error) === null && !(error instanceof PersonChanged)) throw error
      return attempt()
    })
    if (!('faceId' in outcome)) return outcome

    const { personId, newPerson, ...registered } = outcome
    if (registered.created) {
      await this.gallery.faceAdded({
        faceId: registered.faceId,
        personId,
        feature: enrolment.feature,
      })
    }
    const message = !registered.created
      ? 'this photo was already enrolled'
      : newPerson
        ? `face enrolled; ${registered.username} is new and passes no door until an operator approves them`
        : 'face enrolled'
    return { ok: true, data: registered, message }
  }

  /**
   * Whether a face for an existing person may land: the same photo again
   * under the same name does (nothing is added); otherwise the face must
   * score at the match threshold against one of their faces of the same
   * model, and the name must be theirs.
   */
  async #check(
    person: Person,
    input: RegFaceInput,
    enrolment: Enrolment,
    imagePath: string
  ): Promise<Check> {
    const renamed = person.displayName !== input.faceName
    const rename: EnrolmentReviewReason[] = renamed ? ['rename'] : []
    const faces = await Face.query()
      .where('person_id', person.id)
      .where('model_id', enrolment.feature.model)
    if (faces.some((face) => face.imagePath === imagePath)) return { reasons: rename, score: 1 }
    const compared = await this.recognition.comparator()
    let score: number | null = null
    if (compared.ok) {
      for (const face of faces) {
        const result = compared.comparator.compare(storedFeature(face), enrolment.feature)
        if (result.ok) score = Math.max(score ?? 0, result.score)
      }
    }
    if (score === null) return { reasons: ['no_faces', ...rename], score }
    if (score < matchThreshold) return { reasons: ['no_match', ...rename], score }
    return { reasons: rename, score }
  }

  /**
   * Keeps the face for an operator's decision: one review per person,
   * photo and name, however often the terminal sends it.
   */
  async #hold(
    actor: Actor,
    device: Device,
    person: Person,
    input: RegFaceInput,
    enrolment: Enrolment,
    imagePath: string,
    check: Check
  ): Promise<TerminalResult<Registered>> {
    const review = await db.transaction(async (trx) => {
      const same = await EnrolmentReview.query({ client: trx })
        .where('person_id', person.id)
        .where('kind', 'face_change')
        .where('image_path', imagePath)
        .where('requested_name', input.faceName)
        .first()
      if (same) return same
      const held = await EnrolmentReview.create(
        {
          kind: 'face_change',
          deviceId: device.id,
          deviceLabel: `${device.name} (${device.serialNumber})`,
          address: actor.ip,
          personId: person.id,
          username: person.username,
          requestedName: input.faceName,
          reasons: check.reasons,
          score: check.score,
          embedding: embeddingBytes(enrolment.feature.vector),
          engine: enrolment.engine,
          modelId: enrolment.feature.model,
          dimension: enrolment.feature.vector.length,
          quality: enrolment.quality,
          imagePath,
          box: enrolment.face.box,
          landmarks: enrolment.face.landmarks,
        },
        { client: trx }
      )
      await this.audit.record(
        actor,
        {
          action: 'enrolment.hold',
          subjectType: 'person',
          subjectId: person.id,
          subjectLabel: person.username,
          after: { reviewId: held.id, reasons: check.reasons, requestedName: input.faceName },
        },
        trx
      )
      return held
    })
    return {
      ok: false,
      error: { type: 'held_for_review', message: heldMessage(person, check, review.id) },
    }
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
    for (const [i, value] of claimed.vector.entries()) similarity += value * computed.vector[i]
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
   * One transaction: the person, the face, the revision bump, the review
   * of a new person and the audit entries land together or not at all. A
   * concurrent first enrolment of the same username makes this throw a
   * unique violation, and a person created or changed since the check
   * throws PersonChanged; the caller then decides once more.
   */
  #store(
    actor: Actor,
    device: Device,
    checkedPersonId: number | null,
    input: RegFaceInput,
    enrolment: Enrolment,
    imagePath: string
  ): Promise<Stored> {
    return db.transaction(async (trx) => {
      const existing = await this.#lockedPerson(trx, input.username)
      if ((existing?.id ?? null) !== checkedPersonId) throw new PersonChanged()
      if (existing && existing.displayName !== input.faceName) throw new PersonChanged()
      const person = existing ?? new Person()
      person.useTransaction(trx)

      const face = existing
        ? await Face.query({ client: trx })
            .where('person_id', existing.id)
            .where('image_path', imagePath)
            .first()
        : null
      if (face) {
        return {
          username: input.username,
          faceId: face.id,
          created: false,
          personId: face.personId,
          newPerson: false,
        }
      }

      person.merge({
        username: input.username,
        displayName: input.faceName,
        revision: await this.revisions.bump(trx),
      })
      if (!existing) person.status = 'active'
      await person.save()
      if (!existing) {
        await this.audit.record(
          actor,
          {
            action: 'person.create',
            subjectType: 'person',
            subjectId: person.id,
            subjectLabel: person.username,
            after: { displayName: person.displayName },
          },
          trx
        )
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
      if (!existing) {
        await EnrolmentReview.create(
          {
            kind: 'new_person',
            deviceId: device.id,
            deviceLabel: `${device.name} (${device.serialNumber})`,
            address: actor.ip,
            personId: person.id,
            faceId: created.id,
            username: person.username,
            requestedName: person.displayName,
            reasons: ['new_person'],
            imagePath,
          },
          { client: trx }
        )
      }
      return {
        username: person.username,
        faceId: created.id,
        created: true,
        personId: person.id,
        newPerson: !existing,
      }
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
}

/** The person was created or renamed between the check and the write. */
class PersonChanged extends Error {}

function heldMessage(person: Person, check: Check, reviewId: number) {
  const why = check.reasons
    .map((reason) => {
      if (reason === 'no_match')
        return `the face does not match ${person.username}'s enrolled faces (best score ${answeredScore(check.score ?? 0)})`
      if (reason === 'no_faces') return `${person.username} has no enrolled face to compare it with`
      if (reason === 'rename') return `renaming ${person.username} needs an operator`
      return reason
    })
    .join('; ')
  return `held for an operator's review (review ${reviewId}): ${why}`
}
