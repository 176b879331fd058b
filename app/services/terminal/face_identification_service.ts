import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import type Device from '#models/device'
import Person from '#models/person'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { GalleryIndex, type GalleryMatch } from '#services/gallery_index'
import { answeredScore, matchThreshold, RecognitionEngine } from '#services/recognition_engine'
import { MediaStore } from '#services/terminal/media_store'
import type { TerminalResult } from '#services/terminal/protocol'

export type IdentifyInput = {
  image: Uint8Array
  /** The card presented with the face, for devices that ask for both. */
  cardNumber?: string
}

type Identified = {
  person: { username: string; name: string } | null
  score: number | null
  decision: string
  reason: string
  eventId: number
}

/**
 * faceIdentify, the online mode: the server recognises the largest face in
 * the picture among everyone enrolled (the in-memory gallery, never a
 * database scan), decides as at the door, and records the decision with
 * the picture as its snapshot. Someone recognised but not allowed through
 * this device is named in the event, so that a guard sees who it was.
 */
@inject()
export class FaceIdentificationService {
  constructor(
    private recognition: RecognitionEngine,
    private gallery: GalleryIndex,
    private decisions: AccessDecisionService,
    private recorder: AccessEventRecorder,
    private media: MediaStore
  ) {}

  async identify(device: Device, input: IdentifyInput): Promise<TerminalResult<Identified>> {
    const opened = await this.recognition.open(input.image, 'image')
    if (!opened.ok) return opened
    const loaded = await this.recognition.comparator()
    if (!loaded.ok) return loaded
    const embedded = await opened.picture.embed()
    if (!embedded.ok) return embedded

    const search = await this.gallery.search(embedded.feature, loaded.comparator)
    if (!search.ok) {
      const message = `this server has no calibration for model ${search.error.model}`
      return { ok: false, error: { type: 'feature_model_mismatch', message } }
    }
    const recognised = await this.#recognised(search.matches)
    const best = recognised?.match ?? search.matches[0]
    const score = best ? answeredScore(best.score) : null
    const person = recognised?.person ?? null

    const occurredAt = DateTime.now()
    const verdict = await this.decisions.decide({
      device,
      person,
      at: occurredAt,
      card: input.cardNumber ?? null,
    })
    const snapshotPath = await this.media.saveSnapshot(input.image, opened.format)
    const event = await this.recorder.record({
      device,
      person,
      reportedName: null,
      score,
      verdict,
      method: input.cardNumber ? 'face_card' : 'face',
      occurredAt,
      snapshotPath,
    })
    return {
      ok: true,
      data: {
        person: person && { username: person.username, name: person.displayName },
        score,
        ...verdict,
        eventId: event.id,
      },
      message: `${verdict.decision} (${verdict.reason})`,
    }
  }

  /**
   * The best match at or above the threshold whose person still exists: a
   * face of someone deleted a moment ago may linger until the gallery
   * hears of it.
   */
  async #recognised(matches: GalleryMatch[]) {
    for (const match of matches) {
      if (match.score < matchThreshold) return null
      const person = await Person.find(match.personId)
      if (person) return { person, match }
    }
    return null
  }
}
