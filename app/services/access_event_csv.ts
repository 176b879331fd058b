import { DateTime } from 'luxon'
import type { AccessEventExportRow } from '#services/access_event_query'
import { siteIsoTime, siteNow } from '#services/site_time'

/** The header line; decisions, reasons and methods are written as their codes. */
const columns = ['time', 'device', 'username', 'name', 'decision', 'reason', 'score', 'method']

/**
 * Excel and LibreOffice read these as BOM-less UTF-8 only when told; with
 * it, names in any script open correctly by double-click.
 */
const byteOrderMark = '\uFEFF'

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula
 * (starting with = + - @, or a tab or carriage return that some strip
 * before looking) gets a leading apostrophe: names and device names come
 * from terminals and operators, and a cell is not a place for code.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return ''
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

const occurredAt = (value: string | Date) =>
  value instanceof Date ? DateTime.fromJSDate(value) : DateTime.fromSQL(value)

function csvLine(row: AccessEventExportRow) {
  return [
    siteIsoTime(occurredAt(row.occurredAt)),
    csvField(row.deviceName),
    csvField(row.username),
    csvField(row.displayName),
    row.decision,
    row.reason,
    row.score === null ? '' : String(Number(row.score.toFixed(4))),
    row.method,
  ].join(',')
}

/**
 * The events export as text, one chunk of lines per chunk of rows, so that
 * a stream reading it holds one chunk at a time.
 */
export async function* accessEventsCsv(chunks: AsyncIterable<AccessEventExportRow[]>) {
  yield `${byteOrderMark}${columns.join(',')}\r\n`
  for await (const rows of chunks) {
    yield rows.map((row) => `${csvLine(row)}\r\n`).join('')
  }
}

/** "events-20261204-0915.csv", the time of the export at the site. */
export function accessEventsCsvName() {
  return `events-${siteNow().toFormat('yyyyMMdd-HHmm')}.csv`
}
