import { Readable } from 'node:stream'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { Exception } from '@adonisjs/core/exceptions'
import AccessEvent, { accessReasons } from '#models/access_event'
import {
  AccessEventQuery,
  eventFiltersAsQuery,
  eventRangeShortcuts,
} from '#services/access_event_query'
import { accessEventsCsv, accessEventsCsvName } from '#services/access_event_csv'
import { LiveAccessEvents } from '#services/live_access_events'
import { MediaStore } from '#faces/media_store'
import { eventFilterValidator } from '#validators/event_validator'

@inject()
export default class EventsController {
  constructor(
    private events: AccessEventQuery,
    private live: LiveAccessEvents,
    private media: MediaStore
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const filters = await eventFilterValidator.validate(request.qs())
    const events = await this.events.search(filters)
    return view.render('pages/events/index', {
      events: events.baseUrl(request.url()),
      filters,
      query: eventFiltersAsQuery(filters),
      shortcuts: eventRangeShortcuts(),
      reasons: accessReasons,
    })
  }

  /**
   * The events the page's filters select, all of them, as CSV: written as
   * the rows are read, so that a year of events never sits in memory.
   */
  async export({ request, response, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const filters = await eventFilterValidator.validate(request.qs())
    response
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${accessEventsCsvName()}"`)
    return response.stream(Readable.from(accessEventsCsv(this.events.exportRows(filters))))
  }

  /**
   * Server-sent events for the open events page; rows are rendered here,
   * in the operator's language, so the page's script only inserts them.
   */
  async stream({ request, response, view, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const filters = await eventFilterValidator.validate(request.qs())
    const stream = this.live.open(filters, {
      lastEventId: request.header('last-event-id'),
      render: (event) => view.render('pages/events/_row', { event }),
    })
    response
      .header('Content-Type', 'text/event-stream; charset=utf-8')
      .header('Cache-Control', 'no-store')
    return response.stream(stream)
  }

  async snapshot({ params, response, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const event = await AccessEvent.findOrFail(params.id)
    const file = await this.media.locate(event.snapshotPath)
    if (!file)
      throw new Exception('This event has no snapshot', { status: 404, code: 'E_NOT_FOUND' })
    return response.header('Content-Type', file.contentType).download(file.path)
  }
}
