import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import Person from '#models/person'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { MediaStore } from '#faces/media_store'
import type { TerminalResult } from '#services/terminal/protocol'
import { decodePhoto } from '#faces/photo_decoding'

export type FeedbackInput = {
  faceName: string
  username?: string
  /** Unix seconds, as the terminal's clock had it. */
  time?: number
  score?: number
  snapshot: Uint8Array | null
}

/** Terminals with an unset clock report 1970; a day ahead allows for drift. */
const earliestPlausible = DateTime.fromISO('2000-01-01T00:00:00Z')

/**
 * clinetFeedback and clinetWebResult: a terminal reports whom it
 * recognised, and asks for its latest result. The recorded decision is the
 * server's own for that person at that device and time, so a terminal
 * that admits someone the server would not (its face database is stale)
 * shows up as a denial with the reason.
 */
@inject()
export class TerminalFeedbackService {
  constructor(
    private decisions: AccessDecisionService,
    private recorder: AccessEventRecorder,
    private media: MediaStore
  ) {}

  async report(
    device: Device,
    input: FeedbackInput
  ): Promise<TerminalResult<{ eventId: number; decision: string; reason: string }>> {
    let snapshotPath: string | null = null
    if (input.snapshot) {
      const snapshot = await decodePhoto(input.snapshot, 'image')
      if (!snapshot.ok) return snapshot
      snapshotPath = await this.media.saveSnapshot(input.snapshot, snapshot.format)
    }

    const person = await this.#named(input)
    const occurredAt = plausibleTime(input.time) ?? DateTime.now()
    const verdict = await this.decisions.decide({ device, person, at: occurredAt })
    const event = await this.recorder.record({
      device,
      person,
      reportedName: input.faceName,
      score: input.score ?? null,
      verdict,
      method: 'face',
      occurredAt,
      snapshotPath,
    })
    return { ok: true, data: { eventId: event.id, ...verdict }, message: 'recorded' }
  }

  async latest(device: Device): Promise<
    TerminalResult<{
      faceName: string
      username: string
      time: number
      decision: string
      reason: string
      score: number | null
    }>
  > {
    const event = await AccessEvent.query()
      .where('device_id', device.id)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .preload('person')
      .first()
    if (!event) {
      const data = { faceName: '', username: '', time: 0, decision: '', reason: '', score: null }
      return { ok: true, data, message: 'no result yet' }
    }
    return {
      ok: true,
      data: {
        faceName: event.person?.displayName ?? event.reportedName ?? '',
        username: event.person?.username ?? '',
        time: Math.floor(event.occurredAt.toSeconds()),
        decision: event.decision,
        reason: event.reason,
        score: event.score,
      },
    }
  }

  /**
   * The person by username when the terminal sends one, else the one
   * person with that display name; nobody when the name is ambiguous.
   */
  async #named(input: FeedbackInput) {
    if (input.username) return Person.findBy('username', input.username)
    const matches = await Person.query().where('display_name', input.faceName).limit(2)
    return matches.length === 1 ? matches[0] : null
  }
}

function plausibleTime(seconds: number | undefined) {
  if (seconds === undefined) return null
  const time = DateTime.fromSeconds(seconds)
  if (!time.isValid || time < earliestPlausible || time > DateTime.now().plus({ days: 1 }))
    return null
  return time
}
