import db from '@adonisjs/lucid/services/db'
import AccessEvent, { type AccessDecision } from '#models/access_event'
import { containsPattern, likeClause, whereAnyContains } from '#services/text_search'

export type AccessEventFilters = {
  decision?: AccessDecision
  /** Part of a device's name or serial number. */
  device?: string
  /** Part of a person's username or name, or of the name a terminal reported. */
  person?: string
  page?: number
}

export const eventsPerPage = 50

/**
 * Reads access events for the events page and its live stream: newest
 * first, filtered the same way in both so that a live row appears only on
 * a page that would list it.
 */
export class AccessEventQuery {
  async search(filters: AccessEventFilters) {
    const events = await this.#query(filters)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .paginate(filters.page ?? 1, eventsPerPage)
    events.queryString({
      decision: filters.decision,
      device: filters.device,
      person: filters.person,
    })
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

  #query(filters: AccessEventFilters) {
    const query = AccessEvent.query().preload('device').preload('person')
    if (filters.decision) query.where('decision', filters.decision)
    if (filters.device) {
      const devices = db.from('devices').select('id')
      query.whereIn(
        'device_id',
        whereAnyContains(devices, ['name', 'serial_number'], filters.device)
      )
    }
    if (filters.person) {
      const people = whereAnyContains(
        db.from('people').select('id'),
        ['username', 'display_name'],
        filters.person
      )
      query.where((matches) => {
        matches
          .whereIn('person_id', people)
          .orWhereRaw(likeClause('reported_name'), [containsPattern(filters.person!)])
      })
    }
    return query
  }
}
