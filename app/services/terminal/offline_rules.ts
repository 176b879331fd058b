import { identificationPolicy } from '#services/terminal/face_identification_service'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import AccessGroup from '#models/access_group'
import type Device from '#models/device'
import { siteTimeZone } from '#services/site_time'

/** What an offline terminal needs to decide about one person it received. */
export type OfflinePerson = {
  username: string
  /** ISO 8601 with offset; null when unbounded. */
  validFrom: string | null
  validUntil: string | null
  /** Ids of the access groups (of `groups`) through which the person may pass this device. */
  groups: number[]
  /** Sent only to devices that ask for a card (card, face_card). */
  cardNumber?: string | null
}

export type OfflineSchedule = {
  id: number
  name: string
  /** ISO weekday (1 Monday … 7 Sunday), minutes since midnight, end exclusive, in `timeZone`. */
  windows: { weekday: number; startsAtMinute: number; endsAtMinute: number }[]
  /** Days (YYYY-MM-DD, in `timeZone`) on which no window applies. */
  holidays: string[]
}

export type OfflineGroup = { id: number; name: string; schedule: OfflineSchedule | null }

export type OfflineRulesAnswer = {
  people: OfflinePerson[]
  groups: OfflineGroup[]
  requiredFactors: Device['requiredFactors']
  timeZone: string
  /** The false-positive identification rate and margin faceIdentify holds to at this device. */
  targetFpir: number
  margin: number
}

const chunkSize = 400

function isoTime(value: unknown) {
  if (value === null || value === undefined) return null
  const time = value instanceof Date ? DateTime.fromJSDate(value) : DateTime.fromSQL(String(value))
  return time.isValid ? time.toISO() : null
}

/**
 * The rules a terminal in offline mode applies to the people getDbs sends
 * it, as the server's access decision does: validity dates, the access
 * groups that grant this device with their schedules (weekly windows and
 * holidays, in the site's time zone), and the factors the device requires.
 */
export class OfflineRules {
  async forDevice(device: Device, usernames: string[]): Promise<OfflineRulesAnswer> {
    const groups = await AccessGroup.query()
      .whereHas('devices', (devices) => devices.where('devices.id', device.id))
      .preload('schedule', (schedule) => schedule.preload('windows').preload('holidays'))
      .orderBy('id')
    const withCard = device.requiredFactors !== 'face'
    const people: OfflinePerson[] = []
    for (let at = 0; at < usernames.length; at += chunkSize) {
      const batch = usernames.slice(at, at + chunkSize)
      const rows = await db
        .from('people')
        .whereIn('username', batch)
        .select('id', 'username', 'valid_from', 'valid_until', 'card_number')
        .orderBy('id')
      const grants = await db
        .from('access_group_people as gp')
        .join('access_group_devices as gd', 'gd.access_group_id', 'gp.access_group_id')
        .where('gd.device_id', device.id)
        .whereIn(
          'gp.person_id',
          rows.map((row) => row.id)
        )
        .select('gp.person_id', 'gp.access_group_id')
        .orderBy('gp.access_group_id')
      for (const row of rows) {
        people.push({
          username: row.username,
          validFrom: isoTime(row.valid_from),
          validUntil: isoTime(row.valid_until),
          groups: grants
            .filter((grant) => Number(grant.person_id) === Number(row.id))
            .map((grant) => Number(grant.access_group_id)),
          ...(withCard ? { cardNumber: row.card_number ?? null } : {}),
        })
      }
    }
    return {
      people,
      groups: groups.map((group) => ({
        id: group.id,
        name: group.name,
        schedule: group.schedule && {
          id: group.schedule.id,
          name: group.schedule.name,
          windows: group.schedule.windows
            .map((window) => ({
              weekday: window.weekday,
              startsAtMinute: window.startsAtMinute,
              endsAtMinute: window.endsAtMinute,
            }))
            .sort((a, b) => a.weekday - b.weekday || a.startsAtMinute - b.startsAtMinute),
          holidays: group.schedule.holidays.map((holiday) => holiday.date.toISODate()!).sort(),
        },
      })),
      requiredFactors: device.requiredFactors,
      timeZone: siteTimeZone,
      ...identificationPolicy(device),
    }
  }
}
