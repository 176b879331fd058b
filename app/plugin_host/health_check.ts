import app from '@adonisjs/core/services/app'
import { BaseCheck, Result } from '@adonisjs/core/health'
import { PluginHost } from '#plugin-host/plugin_host'

/**
 * Reports every plugin instance for the health endpoint. A broken plugin
 * only ever makes this a warning: the server still serves, and one fill
 * light waiting for an operator must not take it out of a load balancer.
 * The meta data lists each instance's state, last health and last error.
 */
export class PluginsHealthCheck extends BaseCheck {
  name = 'Plugins'

  constructor(private host?: PluginHost) {
    super()
  }

  async run() {
    const host = this.host ?? (await app.container.make(PluginHost))
    const status = await host.status()
    const instances = status.instances.map((instance) => ({
      id: instance.id,
      plugin: instance.pluginId,
      state: instance.state,
      since: instance.since,
      lastHealth: instance.lastHealth,
      lastError: instance.lastError,
      nextRetryAt: instance.nextRetryAt,
    }))
    const meta = { file: status.source.file, instances }

    const troubled = status.instances.filter(
      (instance) => instance.enabled && instance.state !== 'running'
    )
    const problems = [
      ...(status.source.error ? [status.source.error] : []),
      ...status.loadFailures.map(
        (failure) => `plugin folder ${failure.folder}: ${failure.message}`
      ),
      ...troubled.map((instance) => `${instance.id} is ${instance.state}`),
    ]

    if (problems.length > 0) return Result.warning(problems.join('; ')).setMetaData(meta)
    const running = status.instances.filter((instance) => instance.state === 'running').length
    return Result.ok(`${running} plugin instance(s) running`).setMetaData(meta)
  }
}
