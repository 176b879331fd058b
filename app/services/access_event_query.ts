import db from '@adonisjs/lucid/services/db'
import type { ChainableContract } from '@adonisjs/lucid/types/querybuilder'
import AccessEvent, {
  type AccessDecision,
  type AccessMethod,
  type AccessReason,
} from '#models/access_event'
import { fromLocalInput, siteNow, toLocalInput } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'
import { containsPattern, likeClause, whereAnyContains } from '#services/text_search'

export type AccessEventFilters = {
  decision?: AccessDecision
  reason?: AccessReason
  /** Part of a device's name or serial number. */
  device?: string
  /** Part of a person's username or name, or of the name a terminal reported. */
  person?: string
  /**
   * The first and last minute (or second, when given) of a range, inclusive,
   * as a `datetime-local` input sends them ("2026-12-04T09:15"), read in the
   * site's time zone.
   */
  from?: string
  to?: string
  page?: number
}

/** One event as the CSV export writes it. */
export type AccessEventExportRow = {
  /** As the database returns it: a string on SQLite, a Date on PostgreSQL. */
  occurredAt: string | Date
  deviceName: string | null
  username: string | null
  displayName: string | null
  reportedName: string | null
  decision: AccessDecision
  reason: AccessReason
  score: number | null
  method: AccessMethod
}

export const eventsPerPage = 50

/** Rows read at a time by the export: a few hundred kilobytes, whatever the total. */
const exportChunkSize = 1000

/**
 * Reads access events for the events page, its live stream and its CSV
 * export: newest first, filtered the same way in all three so that a live
 * row appears only on a page that would list it and the export holds what
 * the page lists.
 */
export class AccessEventQuery {
  async search(filters: AccessEventFilters) {
    const events = await this.#query(filters)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .paginate(filters.page ?? 1, eventsPerPage)
    events.queryString(eventFiltersAsQuery(filters))
    return events
  }

  /** One event, if it matches the filters. */
  find(id: number, filters: AccessEventFilters) {
    return this.#query(filters).where('access_events.id', id).first()
  }

  /** Events recorded after `id`, oldest first: what a reconnecting page missed. */
  after(id: number, filters: AccessEventFilters, limit = eventsPerPage) {
    return this.#query(filters).where('access_events.id', '>', id).orderBy('id', 'asc').limit(limit)
  }

  /**
   * Every event matching the filters, newest first, in chunks. Each chunk
   * is one query that starts after the last row of the one before (by time,
   * then id), so memory stays flat however many events there are and a
   * chunk costs the same at the end of a million rows as at the start.
   */
  async *exportRows(
    filters: AccessEventFilters,
    chunkSize = exportChunkSize
  ): AsyncGenerator<AccessEventExportRow[]> {
    let last: { occurredAt: string | Date; id: number } | null = null
    while (true) {
      const query = db
        .from('access_events')
        .leftJoin('devices', 'devices.id', 'access_events.device_id')
        .leftJoin('people', 'people.id', 'access_events.person_id')
        .select(
          'access_events.id as id',
          'access_events.occurred_at as occurredAt',
          'devices.name as deviceName',
          'people.username as username',
          'people.display_name as displayName',
          'access_events.reported_name as reportedName',
          'access_events.decision as decision',
          'access_events.reason as reason',
          'access_events.score as score',
          'access_events.method as method'
        )
        .orderBy('access_events.occurred_at', 'desc')
        .orderBy('access_events.id', 'desc')
        .limit(chunkSize)
      applyFilters(query, filters)
      if (last) {
        query.whereRaw('(access_events.occurred_at, access_events.id) < (?, ?)', [
          last.occurredAt,
          last.id,
        ])
      }
      const rows = await query
      if (rows.length === 0) return
      const end = rows[rows.length - 1]
      last = { occurredAt: end.occurredAt, id: end.id }
      yield rows as AccessEventExportRow[]
      if (rows.length < chunkSize) return
    }
  }

  #query(filters: AccessEventFilters) {
    const query = AccessEvent.query()
      .preload('device')
      .preload('person', (person) =>
        person.preload('faces', (faces) =>
          faces.select('id', 'person_id').whereNotNull('image_path').orderBy('id', 'asc')
        )
      )
    return applyFilters(query, filters)
  }
}

/**
 * Narrows an access_events query (model or plain) to the filters; columns
 * are qualified so that the export's joins leave them unambiguous.
 */
function applyFilters<Query extends ChainableContract>(query: Query, filters: AccessEventFilters) {
  if (filters.decision) query.where('access_events.decision', filters.decision)
  if (filters.reason) query.where('access_events.reason', filters.reason)
  if (filters.device) {
    const devices = db.from('devices').select('id')
    query.whereIn(
      'access_events.device_id',
      whereAnyContains(devices, ['name', 'serial_number'], filters.device)
    )
  }
  if (filters.person) {
    const people = whereAnyContains(
      db.from('people').select('id'),
      ['username', 'display_name'],
      filters.person
    )
    const pattern = containsPattern(filters.person)
    query.where((matches) => {
      matches
        .whereIn('access_events.person_id', people)
        .orWhereRaw(likeClause('access_events.reported_name'), [pattern])
    })
  }
  const from = filters.from && fromLocalInput(filters.from)
  if (from) query.where('access_events.occurred_at', '>=', toSqlDateTime(from))
  const to = filters.to && fromLocalInput(filters.to)
  if (to) {
    const after = to.plus(filters.to!.length > 16 ? { seconds: 1 } : { minutes: 1 })
    query.where('access_events.occurred_at', '<', toSqlDateTime(after))
  }
  return query
}

/**
 * The filters as they appear in the query string: for the page links, so
 * that paging keeps them, and for the stream and export links.
 */
export function eventFiltersAsQuery(filters: AccessEventFilters) {
  return {
    decision: filters.decision,
    reason: filters.reason,
    device: filters.device,
    person: filters.person,
    from: filters.from,
    to: filters.to,
  }
}

/**
 * Where the events page's range shortcuts start at `now` ("last hour",
 * "today", "last 7 days"); each is open-ended, so new events keep arriving.
 */
export function eventRangeShortcuts(now = siteNow()) {
  return {
    last_hour: toLocalInput(now.minus({ hours: 1 })),
    today: toLocalInput(now.startOf('day')),
    last_7_days: toLocalInput(now.minus({ days: 7 })),
  }
}
