import type { HttpContext } from '@adonisjs/core/http'
import { inject } from '@adonisjs/core'
import { DashboardService } from '#services/dashboard_service'
import { LiveAccessEvents } from '#services/live_access_events'

@inject()
export default class DashboardController {
  constructor(
    private dashboard: DashboardService,
    private live: LiveAccessEvents
  ) {}

  async show({ view }: HttpContext) {
    return view.render('pages/dashboard/show', await this.dashboard.page())
  }

  /**
   * Every access event as the dashboard lists it, from the first event
   * after those the page was rendered with (`after`) or, reconnecting,
   * after the last one it received.
   */
  async stream({ request, response, view, bouncer }: HttpContext) {
    await bouncer.with('AccessEventPolicy').authorize('view')
    const stream = this.live.open(
      {},
      {
        lastEventId: request.header('last-event-id') ?? request.input('after'),
        render: (event) => view.render('pages/dashboard/_event', { event }),
      }
    )
    response
      .header('Content-Type', 'text/event-stream; charset=utf-8')
      .header('Cache-Control', 'no-store')
    return response.stream(stream)
  }
}
