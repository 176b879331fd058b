import type { HttpContext } from '@adonisjs/core/http'
import { healthChecks } from '#start/health'

export default class HealthChecksController {
  /**
   * The report without its debug section: the endpoint needs no sign-in,
   * and process ids and the Node version are nobody's business outside.
   */
  async show({ response }: HttpContext) {
    const { debugInfo, ...report } = await healthChecks.run()
    void debugInfo
    return report.isHealthy ? response.ok(report) : response.serviceUnavailable(report)
  }
}
