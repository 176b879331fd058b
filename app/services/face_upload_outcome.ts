import { inject } from '@adonisjs/core'
import type { I18n } from '@adonisjs/i18n'
import type Person from '#models/person'
import type { Confirmations } from '#faces/face_enrolment'
import { MediaStore } from '#faces/media_store'
import { matchThreshold } from '#faces/open_set_identification'
import {
  PersonFacesService,
  type FaceUploadRefusal,
  type FaceUploadResult,
} from '#faces/person_faces_service'
import { answeredScore } from '#faces/recognition_engine'

/** Where a photo came from: a chosen file, or a capture from the page's webcam. */
export type PhotoSource = 'photo' | 'webcam'

/** What the faces section of a person's page shows after an upload that enrolled nothing. */
export type UploadState = {
  error: string
  /** The photo kept for the operator's pick or confirmation. */
  staged?: string
  faces?: { index: number; thumbnail: string }[]
  pick?: number
  warning?: 'same_person' | 'different_people'
  other?: string
  confirmed: Confirmations
  /** Set for a webcam capture, so that the face enrolled after a decision says so. */
  source?: PhotoSource
}

/** Who may use a staged photo: the operator who uploaded it, on that person's page. */
export const stagingOwner = (personId: number, userId: number) =>
  `person:${personId}:user:${userId}`

/**
 * Turns a refused face upload into what the person page shows: the reason
 * in the operator's language and, when the operator can still decide (pick
 * one of several faces, or give a reason to override a warning), the photo
 * kept for that decision. Both ways a face is added on the pages use it:
 * the person page's upload and the new-person form.
 */
@inject()
export class FaceUploadOutcome {
  constructor(
    private faces: PersonFacesService,
    private media: MediaStore
  ) {}

  async refused(
    i18n: I18n,
    person: Person,
    owner: string,
    bytes: Uint8Array,
    result: Extract<FaceUploadResult, { ok: false }>,
    upload: { staged?: string; pick?: number; confirmed: Confirmations; source?: PhotoSource }
  ): Promise<UploadState> {
    const error = result.error
    const message = this.message(i18n, person, error)
    const source = upload.source === 'webcam' ? upload.source : undefined
    const needsDecision =
      (error.type === 'several_faces' && result.faces.length > 1) ||
      error.type === 'not_same_person' ||
      error.type === 'matches_other_person'
    if (!needsDecision) {
      if (upload.staged) await this.media.unstagePhoto(upload.staged)
      return { error: message, confirmed: {} }
    }
    const state: UploadState = {
      error: message,
      staged: upload.staged ?? (await this.media.stagePhoto(bytes, owner)),
      pick: upload.pick,
      confirmed: upload.confirmed,
      source,
    }
    if (error.type === 'several_faces') {
      const thumbnails = await this.faces.thumbnails(bytes, result.faces)
      state.faces = thumbnails.map((thumbnail, index) => ({ index, thumbnail }))
    } else if (error.type === 'not_same_person') {
      state.warning = 'same_person'
    } else if (error.type === 'matches_other_person') {
      state.warning = 'different_people'
      state.other = error.other.displayName
    }
    return state
  }

  /** Why a face was not enrolled, in the operator's language. */
  message(i18n: I18n, person: Person, error: FaceUploadRefusal) {
    const name = person.displayName
    switch (error.type) {
      case 'not_image':
      case 'unreadable_file':
        return i18n.t('people.faces.errors.not_image')
      case 'image_too_large':
        return i18n.t('people.faces.errors.too_large')
      case 'no_face':
        return i18n.t('people.faces.errors.no_face')
      case 'engine_unavailable':
        return i18n.t('people.faces.errors.no_engine')
      case 'already_enrolled':
        return i18n.t('people.faces.errors.already_enrolled')
      case 'several_faces':
        return i18n.t('people.faces.errors.several_faces', { count: error.faces.length, name })
      case 'poor_quality': {
        const advice = error.issues
          .map((issue) => i18n.t(`people.faces.quality_issues.${issue.code}`))
          .join(', ')
        return i18n.t('people.faces.errors.poor_quality', { advice })
      }
      case 'no_consent':
        return i18n.t('people.faces.errors.no_consent', { name })
      case 'not_same_person':
        return i18n.t('people.faces.errors.not_same_person', {
          name,
          score: answeredScore(error.score ?? 0),
          needed: matchThreshold,
        })
      case 'matches_other_person':
        return i18n.t('people.faces.errors.matches_other_person', {
          other: error.other.displayName,
          username: error.other.username,
          score: answeredScore(error.score),
        })
    }
  }
}
