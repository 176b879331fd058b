import type { DateTime } from 'luxon'
import AccessGroup from '#models/access_group'
import type { AccessDecision, AccessReason } from '#models/access_event'
import type Device from '#models/device'
import type Person from '#models/person'
import type Schedule from '#models/schedule'
import { siteTimeZone } from '#services/site_time'

export type AccessVerdict = { decision: AccessDecision; reason: AccessReason }

export type AccessRequest = {
  device: Device
  /** Null when nobody was recognised. */
  person: Person | null
  /** When; schedules are read at the site (SITE_TIME_ZONE), whatever zone this is in. */
  at: DateTime
  /**
   * The card presented with the face, when the caller checks factors; left
   * out when a terminal decided and reports afterwards.
   */
  card?: string | null
}

const deny = (reason: AccessReason): AccessVerdict => ({ decision: 'denied', reason })

/**
 * Whether a person may pass a device at a time: active and within their
 * validity dates, in an access group that includes the device, inside that
 * group's schedule (weekly windows, never on its holidays), and with the
 * card the device asks for. Liveness is the engine's to judge before this.
 */
export class AccessDecisionService {
  async decide({ device, person, at, card }: AccessRequest): Promise<AccessVerdict> {
    if (!person) return deny('unknown_face')
    if (person.status !== 'active') return deny('suspended')
    if (!person.isValidAt(at)) return deny('expired')

    const groups = await AccessGroup.query()
      .whereHas('people', (people) => people.where('people.id', person.id))
      .whereHas('devices', (devices) => devices.where('devices.id', device.id))
      .preload('schedule', (schedule) => schedule.preload('windows').preload('holidays'))
    if (groups.length === 0) return deny('not_authorized')
    const atSite = at.setZone(siteTimeZone)
    if (!groups.some((group) => !group.schedule || scheduleAllows(group.schedule, atSite))) {
      return deny('outside_schedule')
    }

    const needsCard = device.requiredFactors === 'card' || device.requiredFactors === 'face_card'
    if (card !== undefined && needsCard && (!card || card !== person.cardNumber)) {
      return deny('not_authorized')
    }
    return { decision: 'granted', reason: 'granted' }
  }
}

export function scheduleAllows(schedule: Schedule, at: DateTime) {
  const day = at.toISODate()
  if (schedule.holidays.some((holiday) => holiday.date.toISODate() === day)) return false
  const minute = at.hour * 60 + at.minute
  return schedule.windows.some((window) => window.covers(at.weekday, minute))
}
