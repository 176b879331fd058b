import { isPlugin, type Plugin } from '#plugin-host/define_plugin'

/**
 * One lazy import per plugin folder, as `node ace codegen` writes them to
 * `.adonisjs/server/plugins.ts`.
 */
export type PluginLoaders = Record<string, () => Promise<{ default?: unknown }>>

export interface RegisteredPlugin {
  folder: string
  plugin: Plugin
}

export interface PluginLoadFailure {
  folder: string
  message: string
}

/**
 * The installed plugins. Loading imports every plugin module (which only
 * declares it; nothing starts), and a folder that fails to import, exports
 * something else or repeats an id is recorded instead of stopping the rest.
 */
export class PluginRegistry {
  #plugins = new Map<string, RegisteredPlugin>()

  private constructor(readonly failures: PluginLoadFailure[]) {}

  static async load(loaders: PluginLoaders) {
    const folders = Object.keys(loaders).sort()
    const loaded = await Promise.allSettled(folders.map((folder) => loaders[folder]()))
    const registry = new PluginRegistry([])

    loaded.forEach((outcome, index) => {
      const folder = folders[index]
      if (outcome.status === 'rejected') {
        const reason = outcome.reason
        registry.failures.push({ folder, message: reason?.message ?? String(reason) })
      } else if (!isPlugin(outcome.value.default)) {
        registry.failures.push({
          folder,
          message: 'plugin.ts does not export a definePlugin() result as default',
        })
      } else if (registry.#plugins.has(outcome.value.default.id)) {
        const other = registry.#plugins.get(outcome.value.default.id)!.folder
        registry.failures.push({
          folder,
          message: `plugin id "${outcome.value.default.id}" is already used by ${other}`,
        })
      } else {
        registry.#plugins.set(outcome.value.default.id, { folder, plugin: outcome.value.default })
      }
    })
    return registry
  }

  get(id: string) {
    return this.#plugins.get(id)?.plugin
  }

  all() {
    return [...this.#plugins.values()]
  }
}
