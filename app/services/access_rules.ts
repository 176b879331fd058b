import type { DateTime } from 'luxon'

/**
 * The access rules as plain facts in, verdict out, with no database: the
 * server's AccessDecisionService reads the facts from its models, a
 * terminal deciding offline from the copy getDbs gave it, and both decide
 * here, so that a door decides the same whichever of them is asked.
 */

export type AccessRuleReason =
  'granted' | 'unknown_face' | 'suspended' | 'expired' | 'not_authorized' | 'outside_schedule'

export type AccessRuleVerdict = { decision: 'granted' | 'denied'; reason: AccessRuleReason }

/** One weekly window: ISO weekday (1 Monday … 7 Sunday), minutes since midnight, end exclusive. */
export type WeeklyWindow = { weekday: number; startsAtMinute: number; endsAtMinute: number }

/** A schedule as the rules read it: weekly windows, and days (YYYY-MM-DD) on which none applies. */
export type ScheduleRule = { windows: readonly WeeklyWindow[]; holidays: readonly string[] }

export type RequiredFactors = 'face' | 'card' | 'face_card'

export type AccessFacts = {
  /** Null when nobody was recognised. */
  person: {
    active: boolean
    validFrom: DateTime | null
    validUntil: DateTime | null
    cardNumber?: string | null
  } | null
  /**
   * One entry per access group through which the person may pass the
   * device: its schedule, or null for a group open at all times.
   */
  schedules: readonly (ScheduleRule | null)[]
  requiredFactors: RequiredFactors
  /**
   * The card presented with the face, when the caller checks factors; left
   * out when a terminal decided and reports afterwards.
   */
  card?: string | null
  at: DateTime
  /** The zone in which the schedules' windows and holidays are read (the site's). */
  timeZone: string
}

const deny = (reason: AccessRuleReason): AccessRuleVerdict => ({ decision: 'denied', reason })

/**
 * Whether a person may pass a device at a time: active and within their
 * validity dates, in an access group that includes the device, inside that
 * group's schedule (weekly windows, never on its holidays), and with the
 * card the device asks for.
 */
export function decideAccess(facts: AccessFacts): AccessRuleVerdict {
  const { person, at } = facts
  if (!person) return deny('unknown_face')
  if (!person.active) return deny('suspended')
  if (!withinValidity(person, at)) return deny('expired')
  if (facts.schedules.length === 0) return deny('not_authorized')
  const atSite = at.setZone(facts.timeZone)
  if (!facts.schedules.some((schedule) => !schedule || scheduleAllows(schedule, atSite))) {
    return deny('outside_schedule')
  }
  const needsCard = facts.requiredFactors === 'card' || facts.requiredFactors === 'face_card'
  const card = facts.card
  if (card !== undefined && needsCard && (!card || card !== person.cardNumber)) {
    return deny('not_authorized')
  }
  return { decision: 'granted', reason: 'granted' }
}

/** Whether `at` falls within the validity dates (both inclusive; null is unbounded). */
export function withinValidity(
  dates: { validFrom: DateTime | null; validUntil: DateTime | null },
  at: DateTime
) {
  if (dates.validFrom && at < dates.validFrom) return false
  if (dates.validUntil && at > dates.validUntil) return false
  return true
}

/** Whether the schedule lets people through at `at`, read in `at`'s own zone. */
export function scheduleAllows(schedule: ScheduleRule, at: DateTime) {
  if (schedule.holidays.includes(at.toISODate()!)) return false
  const minute = at.hour * 60 + at.minute
  return schedule.windows.some((window) => windowCovers(window, at.weekday, minute))
}

export function windowCovers(window: WeeklyWindow, weekday: number, minute: number) {
  return (
    window.weekday === weekday && minute >= window.startsAtMinute && minute < window.endsAtMinute
  )
}
