import type { HttpContext } from '@adonisjs/core/http'
import { DashboardService } from '#services/dashboard_service'
import { inject } from '@adonisjs/core'

@inject()
export default class DashboardController {
  constructor(private dashboard: DashboardService) {}

  async show({ view }: HttpContext) {
    return view.render('pages/dashboard/show', { summary: await this.dashboard.summary() })
  }
}
