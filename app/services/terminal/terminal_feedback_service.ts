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
import { uniqueViolation } from '#services/unique_violation'

export type FeedbackInput = {
  faceName: string
  username?: string
  /** Unix seconds, as the terminal's clock had it. */
  time?: number
  score?: number
  /** The terminal's own id for the report, so that a retry is recorded once. */
  eventId?: string
  /** The terminal refused the passage itself (`spoof`: the face did not prove it was live). */
  refusal?: 'spoof'
  snapshot: Uint8Array | null
}

/** Terminals with an unset clock report 1970: their reports take the server's time. */
const earliestPlausible = DateTime.fromISO('2000-01-01T00:00:00Z')

/** How far ahead of the server's clock a terminal's `time` may be, as for signatures. */
export const feedbackClockSkewSeconds = 300

/**
 * clinetFeedback and clinetWebResult: a terminal reports whom it
 * recognised, and asks for its latest result. The recorded decision is the
 * server's own for that person at that device and time, so a terminal
 * that admits someone the server would not (its face database is stale)
 * shows up as a denial with the reason. A report is recorded at the
 * terminal's `time` when it sends one (a report sent late, after the
 * network came back, keeps the moment of the passage), and once per
 * `eventId`: a terminal that retries because an answer was lost gets the
 * event recorded the first time. A terminal's own refusal (a face that
 * did not prove it was live) is recorded as that refusal, whoever it
 * looked like: a terminal can only make the decision stricter.
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
    const occurredAt = reportedTime(input.time)
    if (occurredAt === 'future') {
      return {
        ok: false,
        error: {
          type: 'invalid_parameter',
          message: `time is more than ${feedbackClockSkewSeconds} s ahead of the server's clock; set the terminal's clock`,
        },
      }
    }
    const recorded = await this.#recorded(device, input.eventId)
    if (recorded) return recorded

    let snapshotPath: string | null = null
    if (input.snapshot) {
      const snapshot = await decodePhoto(input.snapshot, 'image')
      if (!snapshot.ok) return snapshot
      snapshotPath = await this.media.saveSnapshot(input.snapshot, snapshot.format)
    }

    const person = await this.#named(input)
    const at = occurredAt ?? DateTime.now()
    const verdict = input.refusal
      ? { decision: 'denied' as const, reason: input.refusal }
      : await this.decisions.decide({ device, person, at })
    try {
      const event = await this.recorder.record({
        device,
        person,
        reportedName: input.faceName,
        score: input.score ?? null,
        verdict,
        method: 'face',
        occurredAt: at,
        snapshotPath,
        terminalEventId: input.eventId ?? null,
      })
      return { ok: true, data: { eventId: event.id, ...verdict }, message: 'recorded' }
    } catch (error) {
      // The same report arriving twice at once: the first one recorded it.
      if (snapshotPath) await this.media.remove(snapshotPath)
      if (uniqueViolation(error) === null) throw error
      const first = await this.#recorded(device, input.eventId)
      if (!first) throw error
      return first
    }
  }

  /** The event a report with this id already recorded at this device, as its answer. */
  async #recorded(device: Device, eventId: string | undefined) {
    if (!eventId) return null
    const event = await AccessEvent.query()
      .where('device_id', device.id)
      .where('terminal_event_id', eventId)
      .first()
    if (!event) return null
    return {
      ok: true as const,
      data: { eventId: event.id, decision: event.decision, reason: event.reason },
      message: 'already recorded',
    }
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

/**
 * The moment a report stands for: the terminal's `time`, unless its clock
 * was never set (before 2000: the server's time is used); a time ahead of
 * the server's clock by more than the allowed skew is refused.
 */
function reportedTime(seconds: number | undefined): DateTime | null | 'future' {
  if (seconds === undefined) return null
  const time = DateTime.fromSeconds(seconds)
  if (!time.isValid || time < earliestPlausible) return null
  if (time > DateTime.now().plus({ seconds: feedbackClockSkewSeconds })) return 'future'
  return time
}
