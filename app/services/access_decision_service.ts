import type { DateTime } from 'luxon'
import AccessGroup from '#models/access_group'
import type { AccessDecision, AccessReason } from '#models/access_event'
import type Device from '#models/device'
import type Person from '#models/person'
import type Schedule from '#models/schedule'
import { siteTimeZone } from '#services/site_time'
import { decideAccess, type ScheduleRule } from '#services/access_rules'

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

/**
 * Whether a person may pass a device at a time: active and within their
 * validity dates, in an access group that includes the device, inside that
 * group's schedule (weekly windows, never on its holidays), and with the
 * card the device asks for. Liveness is the engine's to judge before this.
 * The rules themselves are in access_rules.ts, shared with terminals that
 * decide offline; this reads their facts from the database.
 */
export class AccessDecisionService {
  async decide({ device, person, at, card }: AccessRequest): Promise<AccessVerdict> {
    const groups = person
      ? await AccessGroup.query()
          .whereHas('people', (people) => people.where('people.id', person.id))
          .whereHas('devices', (devices) => devices.where('devices.id', device.id))
          .preload('schedule', (schedule) => schedule.preload('windows').preload('holidays'))
      : []
    return decideAccess({
      person: person && {
        active: person.status === 'active',
        validFrom: person.validFrom,
        validUntil: person.validUntil,
        cardNumber: person.cardNumber,
      },
      schedules: groups.map((group) => group.schedule && scheduleRule(group.schedule)),
      requiredFactors: device.requiredFactors,
      card,
      at,
      timeZone: siteTimeZone,
    })
  }
}

function scheduleRule(schedule: Schedule): ScheduleRule {
  return {
    windows: schedule.windows,
    holidays: schedule.holidays.map((holiday) => holiday.date.toISODate()!),
  }
}
