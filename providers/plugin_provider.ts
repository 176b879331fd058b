import type { ApplicationService } from '@adonisjs/core/types'
import { PluginHost, type PluginsConfig } from '#plugin-host/plugin_host'
import { PluginChangeNotices } from '#services/plugins/plugin_change_notices'

declare module '@adonisjs/core/types' {
  interface ContainerBindings {
    plugins: PluginHost
  }
}

/**
 * Registers the plugin host. Instances start when the app serves HTTP or
 * runs tests, never while it boots for tooling (ace commands, codegen);
 * the terminal agent starts the host itself. A server or a command that
 * uses the host (a queue worker's engine) follows the changes the Settings
 * pages make to the plugins file from any process.
 */
export default class PluginProvider {
  #host?: PluginHost
  #unfollow?: () => Promise<void>

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(PluginHost, async () => {
      const logger = await this.app.container.make('logger')
      const { plugins } = await import('#generated/plugins')
      this.#host = new PluginHost(plugins, this.app.config.get<PluginsConfig>('plugins'), logger)
      if (this.app.getEnvironment() !== 'test') {
        this.#unfollow = new PluginChangeNotices(this.#host.file).follow(this.#host)
      }
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
    await this.#unfollow?.()
    await this.#host?.stop()
  }
}
