import type { ApplicationService } from '@adonisjs/core/types'
import { PluginHost, type PluginsConfig } from '#plugin-host/plugin_host'

declare module '@adonisjs/core/types' {
  interface ContainerBindings {
    plugins: PluginHost
  }
}

/**
 * Registers the plugin host. Instances start when the app serves HTTP or
 * runs tests, never while it boots for tooling (ace commands, codegen);
 * the terminal agent starts the host itself.
 */
export default class PluginProvider {
  #host?: PluginHost

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(PluginHost, async () => {
      const logger = await this.app.container.make('logger')
      const { plugins } = await import('#generated/plugins')
      this.#host = new PluginHost(plugins, this.app.config.get<PluginsConfig>('plugins'), logger)
      return this.#host
    })
    this.app.container.alias('plugins', PluginHost)
  }

  async ready() {
    const env = this.app.getEnvironment()
    if (env === 'web' || env === 'test') {
      const host = await this.app.container.make(PluginHost)
      await host.start()
    }
  }

  async shutdown() {
    await this.#host?.stop()
  }
}
