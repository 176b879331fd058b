import { DateTime } from 'luxon'
import siteConfig from '#config/site'

/**
 * Times as the site reads them. The database keeps instants; the pages,
 * the events export and the events page's range inputs are in the site's
 * time zone (`SITE_TIME_ZONE`), always with the offset shown, since an
 * operator, the server and a terminal may each be set to another zone.
 */
export const siteTimeZone = siteConfig.timeZone

/** "2026-12-04 09:15:03 +08:00", or in `format`. */
export function siteTime(time: DateTime, format = 'yyyy-MM-dd HH:mm:ss ZZ') {
  return time.setZone(siteTimeZone).toFormat(format)
}

/** ISO 8601 with the site's offset, for files: "2026-12-04T09:15:03+08:00" (never "Z"). */
export function siteIsoTime(time: DateTime) {
  return siteTime(time, "yyyy-MM-dd'T'HH:mm:ssZZ")
}

/** The current time at the site. */
export function siteNow() {
  return DateTime.now().setZone(siteTimeZone)
}

/**
 * A `datetime-local` input's value ("2026-12-04T09:15") as a time at the
 * site; null when it names no time.
 */
export function fromLocalInput(value: string) {
  const time = DateTime.fromISO(value, { zone: siteTimeZone })
  return time.isValid ? time : null
}

/** A time as a `datetime-local` input's value, at the site. */
export function toLocalInput(time: DateTime) {
  return time.setZone(siteTimeZone).toFormat("yyyy-MM-dd'T'HH:mm")
}
