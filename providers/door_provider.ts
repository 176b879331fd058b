import type { ApplicationService } from '@adonisjs/core/types'
import { PluginHost } from '#plugin-host/plugin_host'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { DoorService } from '#services/doors/door_service'

/**
 * One door service per process, over the plugin host: it opens doors on
 * grants and follows the gates and readers. It starts where the plugin
 * host does (serving HTTP, tests), after it.
 */
export default class DoorProvider {
  #doors?: DoorService

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(DoorService, async (resolver) => {
      const [host, decisions, recorder, logger] = await Promise.all([
        resolver.make(PluginHost),
        resolver.make(AccessDecisionService),
        resolver.make(AccessEventRecorder),
        resolver.make('logger'),
      ])
      this.#doors = new DoorService(host, decisions, recorder, logger)
      return this.#doors
    })
  }

  async ready() {
    const env = this.app.getEnvironment()
    if (env === 'web' || env === 'test') {
      const doors = await this.app.container.make(DoorService)
      doors.start()
    }
  }

  async shutdown() {
    this.#doors?.stop()
  }
}
