import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type Device from '#models/device'
import EnrolmentReview, { type EnrolmentReviewReason } from '#models/enrolment_review'
import Person from '#models/person'
import type { FaceFeature } from '#plugin-sdk'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { embeddingBytes } from '#faces/face_data'
import {
  EnrolmentRace,
  FaceEnrolment,
  type ConsentAtEnrolment,
  type EnrolmentRefusal,
  type FaceCandidate,
} from '#faces/face_enrolment'
import { decodeFeature } from '#faces/feature_blob'
import { MediaStore } from '#faces/media_store'
import { answeredScore, matchThreshold } from '#faces/recognition_engine'
import { uniqueViolation } from '#services/unique_violation'
import type { TerminalFailure, TerminalResult } from '#services/terminal/protocol'

export type RegFaceInput = {
  username: string
  faceName: string
  picture: Uint8Array
  faceData?: string
}

type Registered = { username: string; faceId: number; created: boolean }

/**
 * A sent feature belongs to the photo when the server's own feature of the
 * photo, from the same model, points the same way: the same picture gives
 * a cosine near 1 on any correct implementation of a model, another face
 * well below this.
 */
const sameFaceSimilarity = 0.9

/** What the review of a held face says about it. */
type Held = { reasons: EnrolmentReviewReason[]; score: number | null }

/**
 * regFace: a terminal allowed to enrol creates a person by username, or
 * adds a face to one, through the one enrolment path (FaceEnrolment): one
 * usable face, consent on record, consistent with the person, like no one
 * else. The server computes the feature itself; a `faceData` sent along is
 * checked against it, never stored. A face for an existing person that
 * does not match their enrolled faces (or is their first), resembles
 * someone else, or comes with a new name is held for an operator's review
 * (code 5), so that nobody can put their own face on an employee by
 * knowing a username. A person without consent on record is refused
 * unless the device records consent at enrolment (its consent text
 * version, set on the device page). A person a terminal creates joins no
 * access group until an operator approves them. The same photo sent again
 * (a retried call) adds nothing.
 */
@inject()
export class FaceRegistrationService {
  constructor(
    private enrolment: FaceEnrolment,
    private media: MediaStore,
    private audit: AuditTrail
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
    const read = await this.enrolment.read(input.picture, { field: 'picBase64' })
    if (!read.ok) return { ok: false, error: terminalFailure(read.error) }
    const { candidate } = read
    if (claimed) {
      const mismatch = this.#checkClaim(claimed.feature, candidate.feature)
      if (mismatch) return mismatch
    }

    const actor: Actor = { userId: null, label: `device:${device.serialNumber}`, ip: address }
    const attempt = async (): Promise<TerminalResult<Registered>> => {
      const person = await Person.findBy('username', input.username)
      if (person && person.displayName !== input.faceName) {
        const score = await this.enrolment.personScore(person, candidate.feature)
        const reasons: EnrolmentReviewReason[] = ['rename']
        if (score === null) reasons.unshift('no_faces')
        else if (score < matchThreshold) reasons.unshift('no_match')
        return this.#hold(actor, device, person, input, candidate, { reasons, score })
      }
      const enrolled = await this.enrolment.enrol(
        actor,
        person
          ? { person }
          : { newPerson: { username: input.username, displayName: input.faceName } },
        candidate,
        {
          source: 'terminal',
          firstFaceNeedsConfirmation: true,
          consent: consentAt(device),
          within: person
            ? undefined
            : async (trx, created, face) => {
                await EnrolmentReview.create(
                  {
                    kind: 'new_person',
                    deviceId: device.id,
                    deviceLabel: `${device.name} (${device.serialNumber})`,
                    address,
                    personId: created.id,
                    faceId: face.id,
                    username: created.username,
                    requestedName: created.displayName,
                    reasons: ['new_person'],
                    imagePath: face.imagePath,
                  },
                  { client: trx }
                )
              },
        }
      )
      if (enrolled.ok) {
        const registered = {
          username: enrolled.person.username,
          faceId: enrolled.face.id,
          created: enrolled.created,
        }
        const message = !enrolled.created
          ? 'this photo was already enrolled'
          : person
            ? 'face enrolled'
            : `face enrolled; ${registered.username} is new and passes no door until an operator approves them`
        return { ok: true, data: registered, message }
      }
      const refusal = enrolled.error
      if (person && refusal.type === 'not_same_person') {
        const reasons: EnrolmentReviewReason[] = [refusal.score === null ? 'no_faces' : 'no_match']
        return this.#hold(actor, device, person, input, candidate, {
          reasons,
          score: refusal.score,
        })
      }
      if (person && refusal.type === 'matches_other_person') {
        return this.#hold(actor, device, person, input, candidate, {
          reasons: ['duplicate'],
          score: refusal.score,
        })
      }
      return { ok: false, error: terminalFailure(refusal) }
    }
    return attempt().catch((error) => {
      if (uniqueViolation(error) === null && !(error instanceof EnrolmentRace)) throw error
      return attempt()
    })
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
    candidate: FaceCandidate,
    held: Held
  ): Promise<TerminalResult<Registered>> {
    if (!('bytes' in candidate.photo)) throw new Error('a terminal enrolment carries its photo')
    const imagePath = await this.media.saveFacePhoto(candidate.photo.bytes, candidate.photo.format)
    const review = await db.transaction(async (trx) => {
      const same = await EnrolmentReview.query({ client: trx })
        .where('person_id', person.id)
        .where('kind', 'face_change')
        .where('image_path', imagePath)
        .where('requested_name', input.faceName)
        .first()
      if (same) return same
      const created = await EnrolmentReview.create(
        {
          kind: 'face_change',
          deviceId: device.id,
          deviceLabel: `${device.name} (${device.serialNumber})`,
          address: actor.ip,
          personId: person.id,
          username: person.username,
          requestedName: input.faceName,
          reasons: held.reasons,
          score: held.score,
          embedding: embeddingBytes(candidate.feature.vector),
          engine: candidate.engine,
          modelId: candidate.feature.model,
          dimension: candidate.feature.vector.length,
          quality: candidate.quality,
          imagePath,
          box: candidate.face.box,
          landmarks: candidate.face.landmarks,
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
          after: { reviewId: created.id, reasons: held.reasons, requestedName: input.faceName },
        },
        trx
      )
      return created
    })
    return {
      ok: false,
      error: { type: 'held_for_review', message: heldMessage(person, held, review.id) },
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
}

function heldMessage(person: Person, held: Held, reviewId: number) {
  const why = held.reasons
    .map((reason) => {
      if (reason === 'no_match')
        return `the face does not match ${person.username}'s enrolled faces (best score ${answeredScore(held.score ?? 0)})`
      if (reason === 'no_faces') return `${person.username} has no enrolled face to compare it with`
      if (reason === 'duplicate') return 'the face resembles another enrolled person'
      if (reason === 'rename') return `renaming ${person.username} needs an operator`
      return reason
    })
    .join('; ')
  return `held for an operator's review (review ${reviewId}): ${why}`
}

/**
 * Consent given at the terminal itself: a device whose page names the
 * consent text version it shows before enrolling records consent for the
 * people it enrols; any other device enrols only people whose consent an
 * operator recorded.
 */
export function consentAt(device: Device): ConsentAtEnrolment | undefined {
  const version = device.config?.enrolmentConsentVersion
  if (typeof version !== 'string' || version === '') return undefined
  return { textVersion: version, recordedBy: null, where: `device ${device.serialNumber}` }
}

/**
 * A refused enrolment as the protocol says it. Whom a face resembles is
 * never told to a terminal: that would turn regFace into a search.
 */
function terminalFailure(refusal: EnrolmentRefusal): TerminalFailure {
  switch (refusal.type) {
    case 'unreadable_file':
    case 'not_image':
    case 'image_too_large':
    case 'engine_unavailable':
    case 'no_face':
      return { type: refusal.type, message: refusal.message }
    case 'several_faces':
    case 'poor_quality':
      return { type: 'unusable_face', message: refusal.message }
    case 'no_consent':
    case 'not_same_person':
      return { type: 'enrolment_refused', message: refusal.message }
    case 'matches_other_person':
      return {
        type: 'enrolment_refused',
        message:
          'the face resembles another enrolled person; an operator enrols this person on the person page',
      }
  }
}
