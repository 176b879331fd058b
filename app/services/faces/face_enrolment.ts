import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import Face, { type FaceSource } from '#models/face'
import Person from '#models/person'
import type { DetectedFace, FaceBox, FaceFeature, QualityIssue } from '#plugin-sdk'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { embeddingBytes, storedFeature } from '#faces/face_data'
import { FaceDbRevision } from '#faces/face_db_revision'
import { FacePhotoAnalyser } from '#faces/face_photo_analyser'
import type { FeatureComparator } from '#faces/feature_blob'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import { removeIfUnused } from '#faces/unused_photos'
import { identificationThreshold, matchThreshold } from '#faces/open_set_identification'
import { withDecodedPhoto, type DecodedPhotoPixels, type PhotoFailure } from '#faces/photo_decoding'
import {
  answeredScore,
  RecognitionEngine,
  type RecognitionFailure,
} from '#faces/recognition_engine'

/**
 * A face narrower than this share of the largest face's width is someone
 * in the background, not a second person the photo could be meant for.
 */
export const backgroundFaceShare = 0.5

/** Another enrolled person a new face matches. */
export type OtherPerson = { id: number; username: string; displayName: string }

/**
 * Why a face was not enrolled. The first kinds are about the photo, the
 * rest about the person; `not_same_person` and `matches_other_person` are
 * the two an operator may override with a reason (Confirmations).
 */
export type EnrolmentRefusal =
  | PhotoFailure
  | RecognitionFailure
  | { type: 'several_faces'; message: string; faces: DetectedFace[] }
  | { type: 'poor_quality'; message: string; issues: QualityIssue[] }
  | { type: 'no_consent'; message: string }
  | { type: 'not_same_person'; message: string; score: number | null }
  | { type: 'matches_other_person'; message: string; other: OtherPerson; score: number }

export type EnrolmentRefusalType = EnrolmentRefusal['type']

/** An operator's reasons for enrolling despite a warning; each lands in the audit log. */
export type Confirmations = { samePerson?: string; differentPeople?: string }

/** A face ready to be checked against the person and stored. */
export type FaceCandidate = {
  engine: string
  face: { box: FaceBox | null; landmarks: [number, number][] | null }
  feature: FaceFeature
  quality: number | null
  /** The photo's path once stored (a held enrolment), else its bytes. */
  photo: { bytes: Uint8Array; format: string } | { imagePath: string }
}

export type ReadPhoto =
  | { ok: true; candidate: FaceCandidate; faces: DetectedFace[] }
  | { ok: false; error: EnrolmentRefusal }

/** Who enrols a face onto whom: an existing person, or one created with it. */
export type EnrolmentTarget =
  { person: Person } | { newPerson: { username: string; displayName: string } }

/** Consent given through the enrolment itself (a terminal that shows the consent text). */
export type ConsentAtEnrolment = { textVersion: string; recordedBy: number | null; where: string }

export interface EnrolmentOptions {
  source: FaceSource
  confirmed?: Confirmations
  consent?: ConsentAtEnrolment
  /**
   * A person without faces gets a first one only with `samePerson`
   * confirmed: terminals may not put the first face on someone an
   * operator created.
   */
  firstFaceNeedsConfirmation?: boolean
  /** More writes that belong to the same transaction (a review's decision). */
  within?: (trx: TransactionClientContract, person: Person, face: Face) => Promise<void>
}

export type EnrolmentResult =
  | { ok: true; person: Person; face: Face; created: boolean }
  | { ok: false; error: EnrolmentRefusal }

/**
 * The person was created, renamed or given consent between the checks and
 * the write; the caller decides once more.
 */
export class EnrolmentRace extends Error {}

/**
 * The one way a face is enrolled, whoever sends it (the person page, a
 * terminal's regFace, an approved review, and jobs and the integrator API
 * alike): the photo must show one face of usable quality; the person's
 * consent must be on record (or given with this enrolment); the face must
 * match the person's other faces at the 1:1 threshold and must not match
 * another person at the 1:N threshold of the current gallery, unless an
 * operator confirms with a reason. Then the photo file, the face row, the
 * person's revision bump (which sends the face to devices) and the audit
 * entry land together, and every process's gallery learns the face. A
 * refused enrolment leaves nothing behind.
 */
@inject()
export class FaceEnrolment {
  constructor(
    private analyser: FacePhotoAnalyser,
    private recognition: RecognitionEngine,
    private media: MediaStore,
    private revisions: FaceDbRevision,
    private audit: AuditTrail,
    private gallery: GalleryIndex
  ) {}

  /**
   * Decodes a photo and finds the face to enrol: the one in `face` when
   * the operator picked it, else the only one. `field` names the upload
   * in messages.
   */
  read(bytes: Uint8Array, options: { field: string; face?: FaceBox }): Promise<ReadPhoto> {
    return withDecodedPhoto(bytes, options.field, (decoded) => this.#find(decoded, bytes, options))
  }

  /** The face to enrol among those the engine finds in the decoded photo. */
  async #find(
    decoded: DecodedPhotoPixels,
    bytes: Uint8Array,
    options: { field: string; face?: FaceBox }
  ): Promise<ReadPhoto> {
    const analysis = await this.analyser.analyse(decoded.image, options.face)
    if (!analysis.ok) return analysis
    const { chosen, faces } = analysis
    if (!options.face) {
      const widest = width(faces[0].box)
      const people = faces.filter((face) => width(face.box) >= widest * backgroundFaceShare)
      if (people.length > 1) {
        return {
          ok: false,
          error: {
            type: 'several_faces',
            message: `${options.field} shows ${people.length} faces; an enrolment photo shows one person`,
            faces: people,
          },
        }
      }
    }
    if (chosen.quality && !chosen.quality.acceptable) {
      const advice = chosen.quality.issues.map((issue) => issue.message).join('; ')
      return {
        ok: false,
        error: {
          type: 'poor_quality',
          message: `the face in ${options.field} is not good enough to enrol: ${advice}`,
          issues: chosen.quality.issues,
        },
      }
    }
    return {
      ok: true,
      faces,
      candidate: {
        engine: chosen.engine,
        face: chosen.face,
        feature: chosen.feature,
        quality: chosen.quality?.score ?? null,
        photo: { bytes, format: decoded.format },
      },
    }
  }

  /**
   * Checks the candidate against the person and everyone else, then
   * stores it. The same photo enrolled again for the same person adds
   * nothing (`created: false`), so a retried call is harmless.
   */
  async enrol(
    actor: Actor,
    target: EnrolmentTarget,
    candidate: FaceCandidate,
    options: EnrolmentOptions
  ): Promise<EnrolmentResult> {
    const person = 'person' in target ? target.person : null
    const imagePath =
      'imagePath' in candidate.photo
        ? candidate.photo.imagePath
        : this.media.facePhotoPath(candidate.photo.bytes, candidate.photo.format)

    if (person) {
      const same = await Face.query()
        .where('person_id', person.id)
        .where('image_path', imagePath)
        .first()
      if (same) return { ok: true, person, face: same, created: false }
    }
    const refusal = await this.#check(person, candidate, options)
    if (refusal) return { ok: false, error: refusal }

    const photoWasStored = await this.media.locate(imagePath)
    if ('bytes' in candidate.photo) {
      await this.media.saveFacePhoto(candidate.photo.bytes, candidate.photo.format)
    }
    try {
      const stored = await this.#store(actor, target, candidate, imagePath, options)
      if (stored.created) {
        await this.gallery.faceAdded({
          faceId: stored.face.id,
          personId: stored.person.id,
          feature: candidate.feature,
        })
      }
      return { ok: true, ...stored }
    } catch (error) {
      if (!photoWasStored) await this.removeUnusedPhoto(imagePath)
      throw error
    }
  }

  /** Why the candidate may not land on the person yet, or null when it may. */
  async #check(
    person: Person | null,
    candidate: FaceCandidate,
    options: EnrolmentOptions
  ): Promise<EnrolmentRefusal | null> {
    if (!person?.consentGivenAt && !options.consent) {
      const who = person ? person.username : 'a new person'
      return {
        type: 'no_consent',
        message: `no biometric consent is on record for ${who}; record it before enrolling a face`,
      }
    }
    const compared = await this.recognition.comparator()
    if (!compared.ok) return compared.error
    const { comparator } = compared

    if (person) {
      const best = await this.#bestScore(person, candidate.feature, comparator)
      const unmatched =
        best === null ? Boolean(options.firstFaceNeedsConfirmation) : best < matchThreshold
      if (unmatched && !options.confirmed?.samePerson) {
        return {
          type: 'not_same_person',
          message:
            best === null
              ? `${person.username} has no enrolled face to compare this one with`
              : `the face does not match ${person.username}'s enrolled faces (best score ${answeredScore(best)}, needed ${matchThreshold})`,
          score: best,
        }
      }
    }

    const search = await this.gallery.search(candidate.feature, comparator, 16)
    if (!search.ok) {
      return {
        type: 'engine_unavailable',
        message: `this server has no calibration for model ${search.error.model}`,
      }
    }
    const threshold = identificationThreshold(
      search.searched,
      terminalConfig.identification.targetFpir
    )
    const other = search.matches.find(
      (match) => match.personId !== person?.id && match.score >= threshold
    )
    if (other && !options.confirmed?.differentPeople) {
      const found = await Person.find(other.personId)
      if (found) {
        return {
          type: 'matches_other_person',
          message: `the face matches ${found.displayName} (${found.username}), score ${answeredScore(other.score)}`,
          other: { id: found.id, username: found.username, displayName: found.displayName },
          score: other.score,
        }
      }
    }
    return null
  }

  /**
   * How well a face matches the person's enrolled faces of its model: the
   * best score, or null when they have none (or no engine runs to compare).
   */
  async personScore(person: Person, feature: FaceFeature) {
    const compared = await this.recognition.comparator()
    if (!compared.ok) return null
    return this.#bestScore(person, feature, compared.comparator)
  }

  async #bestScore(person: Person, feature: FaceFeature, comparator: FeatureComparator) {
    const faces = await Face.query().where('person_id', person.id).where('model_id', feature.model)
    let best: number | null = null
    for (const face of faces) {
      const result = comparator.compare(storedFeature(face), feature)
      if (result.ok) best = Math.max(best ?? 0, result.score)
    }
    return best
  }

  /**
   * One transaction: the person (created, or given consent with this
   * enrolment), the face row, the revision bump, the audit entries and the
   * caller's own writes. A person created or changed since the checks
   * throws EnrolmentRace (or a unique violation for a username taken
   * meanwhile).
   */
  #store(
    actor: Actor,
    target: EnrolmentTarget,
    candidate: FaceCandidate,
    imagePath: string,
    options: EnrolmentOptions
  ) {
    return db.transaction(async (trx) => {
      const person = await this.#lockedPerson(trx, target)
      person.useTransaction(trx)
      if (person.$isPersisted) {
        const same = await Face.query({ client: trx })
          .where('person_id', person.id)
          .where('image_path', imagePath)
          .first()
        if (same) return { person, face: same, created: false }
      }
      const isNew = !person.$isPersisted
      const consentGiven = !person.consentGivenAt && options.consent
      if (consentGiven) {
        person.consentGivenAt = DateTime.now()
        person.consentRecordedBy = options.consent!.recordedBy
        person.consentTextVersion = options.consent!.textVersion
      }
      person.revision = await this.revisions.bump(trx)
      await person.save()
      const subject = {
        subjectType: 'person',
        subjectId: person.id,
        subjectLabel: person.username,
      }
      if (isNew) {
        await this.audit.record(
          actor,
          { action: 'person.create', ...subject, after: { displayName: person.displayName } },
          trx
        )
      }
      if (consentGiven) {
        await this.audit.record(
          actor,
          {
            action: 'person.consent',
            ...subject,
            after: { consentTextVersion: options.consent!.textVersion, at: options.consent!.where },
          },
          trx
        )
      }
      const face = await Face.create(
        {
          personId: person.id,
          embedding: embeddingBytes(candidate.feature.vector),
          engine: candidate.engine,
          modelId: candidate.feature.model,
          dimension: candidate.feature.vector.length,
          quality: candidate.quality,
          source: options.source,
          imagePath,
          box: candidate.face.box,
          landmarks: candidate.face.landmarks,
        },
        { client: trx }
      )
      await this.audit.record(
        actor,
        {
          action: 'face.create',
          ...subject,
          after: {
            faceId: face.id,
            source: options.source,
            model: face.modelId,
            ...(options.confirmed?.samePerson
              ? { confirmedSamePerson: options.confirmed.samePerson }
              : {}),
            ...(options.confirmed?.differentPeople
              ? { confirmedDifferentPeople: options.confirmed.differentPeople }
              : {}),
          },
        },
        trx
      )
      await options.within?.(trx, person, face)
      return { person, face, created: true }
    })
  }

  /**
   * The target person inside the transaction; on PostgreSQL their row is
   * locked so that a retry racing the original call sees its face (SQLite
   * runs one transaction at a time).
   */
  async #lockedPerson(trx: TransactionClientContract, target: EnrolmentTarget) {
    const username = 'person' in target ? target.person.username : target.newPerson.username
    const query = Person.query({ client: trx }).where('username', username)
    if (trx.dialect.name === 'postgres') query.forUpdate()
    const found = await query.first()
    if ('person' in target) {
      const checked = target.person
      if (
        !found ||
        found.id !== checked.id ||
        found.displayName !== checked.displayName ||
        Boolean(found.consentGivenAt) !== Boolean(checked.consentGivenAt)
      ) {
        throw new EnrolmentRace()
      }
      return found
    }
    if (found) throw new EnrolmentRace()
    const created = new Person()
    created.merge({
      username: target.newPerson.username,
      displayName: target.newPerson.displayName,
      status: 'active',
    })
    return created
  }

  /** Deletes a photo once no face or held review uses it (photos are stored by content). */
  removeUnusedPhoto(path: string | null) {
    return removeIfUnused(this.media, path)
  }
}

function width(box: FaceBox) {
  return box.right - box.left
}
