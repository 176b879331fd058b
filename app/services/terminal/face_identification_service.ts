import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import type Device from '#models/device'
import Person from '#models/person'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { DoorService } from '#services/doors/door_service'
import { GalleryIndex, type GalleryMatch } from '#faces/gallery_index'
import { answeredScore, RecognitionEngine } from '#faces/recognition_engine'
import {
  decideOpenSet,
  identificationThreshold,
  type OpenSetPolicy,
} from '#faces/open_set_identification'
import terminalConfig from '#config/terminal'
import { MediaStore } from '#faces/media_store'
import type { TerminalResult } from '#services/terminal/protocol'

export type IdentifyInput = {
  image: Uint8Array
  /**
   * The card presented with the face, for devices that ask for both; else
   * the card the device's own reader read a moment before, if any.
   */
  cardNumber?: string
}

type Identified = {
  person: { username: string; name: string } | null
  score: number | null
  /** The best score of anyone else, and the score that names someone at this gallery size. */
  runnerUpScore: number | null
  threshold: number
  decision: string
  reason: string
  eventId: number
}

/**
 * faceIdentify, the online mode: the server recognises the largest face in
 * the picture among everyone enrolled (the in-memory gallery, never a
 * database scan), decides as at the door, and records the decision with
 * the picture as its snapshot; a grant opens the device's door. Someone
 * recognised but not allowed through this device is named in the event,
 * so that a guard sees who it was.
 */
@inject()
export class FaceIdentificationService {
  constructor(
    private recognition: RecognitionEngine,
    private gallery: GalleryIndex,
    private decisions: AccessDecisionService,
    private recorder: AccessEventRecorder,
    private media: MediaStore,
    private doors: DoorService
  ) {}

  async identify(device: Device, input: IdentifyInput): Promise<TerminalResult<Identified>> {
    const embedded = await this.recognition.withPicture(
      input.image,
      'image',
      async ({ picture, format }) => {
        const loaded = await this.recognition.comparator()
        if (!loaded.ok) return loaded
        const face = await picture.embed()
        return face.ok ? { ...face, format, comparator: loaded.comparator } : face
      }
    )
    if (!embedded.ok) return embedded

    const search = await this.gallery.search(embedded.feature, embedded.comparator, 16)
    if (!search.ok) {
      const message = `this server has no calibration for model ${search.error.model}`
      return { ok: false, error: { type: 'feature_model_mismatch', message } }
    }
    const policy = identificationPolicy(device)
    const threshold = identificationThreshold(search.searched, policy.targetFpir)
    const { person, best, runnerUp } = await this.#recognised(search.matches, threshold, policy)
    const score = best ? answeredScore(best.score) : null
    const runnerUpScore = runnerUp === null ? null : answeredScore(runnerUp)

    const occurredAt = DateTime.now()
    const card = input.cardNumber ?? this.doors.takeCard(device)
    const verdict = await this.decisions.decide({ device, person, at: occurredAt, card })
    /** The door does not wait for the snapshot and the event to be written. */
    const opening = this.doors.decided(device, verdict)
    const snapshotPath = await this.media.saveSnapshot(input.image, embedded.format)
    const event = await this.recorder.record({
      device,
      person,
      reportedName: null,
      score,
      identification: { runnerUpScore, threshold },
      verdict,
      method: card ? 'face_card' : 'face',
      occurredAt,
      snapshotPath,
    })
    await opening
    return {
      ok: true,
      data: {
        person: person && { username: person.username, name: person.displayName },
        score,
        runnerUpScore,
        threshold: answeredScore(threshold),
        ...verdict,
        eventId: event.id,
      },
      message: `${verdict.decision} (${verdict.reason})`,
    }
  }

  /**
   * Whom the search names (see open_set_identification.ts), among people
   * who still exist: a face of someone deleted a moment ago may linger
   * until the gallery hears of it, and is left out.
   */
  async #recognised(matches: GalleryMatch[], threshold: number, policy: OpenSetPolicy) {
    let candidates = matches
    for (;;) {
      const decision = decideOpenSet(candidates, threshold, policy.margin)
      if (!decision.named) {
        return { person: null, best: decision.best, runnerUp: decision.runnerUp }
      }
      const person = await Person.find(decision.match.personId)
      if (person) return { person, best: decision.match, runnerUp: decision.runnerUp }
      candidates = candidates.filter((match) => match.personId !== decision.match.personId)
    }
  }
}

/** The site's FPIR target and margin, with the device's own target where it has one. */
/** The FPIR target and margin faceIdentify holds to at this device; terminals deciding offline get them with getDbs. */
export function identificationPolicy(device: Device): OpenSetPolicy {
  const own = device.config?.identifyTargetFpir
  const targetFpir =
    typeof own === 'number' && own > 0 && own < 1 ? own : terminalConfig.identification.targetFpir
  return { targetFpir, margin: terminalConfig.identification.margin }
}
