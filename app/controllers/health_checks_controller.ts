import { timingSafeEqual } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import env from '#start/env'
import { healthChecks } from '#start/health'

/**
 * Whether a request carries the monitoring token (`Authorization: Bearer
 * <HEALTH_TOKEN>`); never when no token is configured.
 */
function carriesHealthToken(authorization: string | undefined) {
  const token = env.get('HEALTH_TOKEN')
  if (!token || !authorization?.startsWith('Bearer ')) return false
  const sent = Buffer.from(authorization.slice('Bearer '.length))
  const expected = Buffer.from(token)
  return sent.length === expected.length && timingSafeEqual(sent, expected)
}

export default class HealthChecksController {
  /**
   * Up or down (200 or 503) for anyone who can reach the server; which
   * check failed and the plugins' states only with the monitoring token,
   * since they tell an attacker what runs. Process ids and the Node version
   * are never sent.
   */
  async show({ request, response }: HttpContext) {
    const { debugInfo, ...report } = await healthChecks.run()
    void debugInfo
    const body = carriesHealthToken(request.header('authorization'))
      ? report
      : { isHealthy: report.isHealthy, status: report.status, finishedAt: report.finishedAt }
    return report.isHealthy ? response.ok(body) : response.serviceUnavailable(body)
  }

  /** The whole report for a signed-in operator (any role), as monitoring gets it with the token. */
  async details({ response }: HttpContext) {
    const { debugInfo, ...report } = await healthChecks.run()
    void debugInfo
    return report.isHealthy ? response.ok(report) : response.serviceUnavailable(report)
  }
}
