import vine from '@vinejs/vine'
import { DateTime } from 'luxon'
import { accessDecisions, accessReasons } from '#models/access_event'
import { listFiltersValidator, pageNumber } from '#validators/list_filters'

/**
 * A time as a `datetime-local` input sends it ("2026-12-04T09:15", seconds
 * optional), without a zone: the events page reads it in the site's.
 */
const localTime = () =>
  vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/)
    .use(validLocalTime())

const validLocalTime = vine.createRule((value, _options, field) => {
  if (typeof value === 'string' && !DateTime.fromISO(value).isValid) {
    field.report('The {{ field }} field must be a date and time', 'localTime', field)
  }
})

/**
 * The events page's filters, also those of its live stream and of its CSV
 * export. `from` and `to` are inclusive, to the minute shown.
 */
export const eventFilterValidator = listFiltersValidator({
  decision: vine.enum(accessDecisions).optional(),
  reason: vine.enum(accessReasons).optional(),
  device: vine.string().trim().maxLength(64).optional(),
  person: vine.string().trim().maxLength(120).optional(),
  from: localTime().optional(),
  to: localTime().optional(),
  page: pageNumber().optional(),
})
