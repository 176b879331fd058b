import type { Logger } from '@adonisjs/core/logger'
import type { PluginKind } from '#plugin-host/contracts'
import { resolveInstanceSpecs } from '#plugin-host/instance_config'
import type { InstancesSource } from '#plugin-host/instances_file'
import { PluginRegistry, type PluginLoaders } from '#plugin-host/registry'
import type {
  InstanceDoorEvent,
  InstanceStatus,
  InstanceTransition,
  RetryResult,
  SupervisedInstance,
  SupervisionPolicy,
} from '#plugin-host/supervised_instance'
import { PluginSupervisor } from '#plugin-host/supervisor'

export interface PluginsConfig {
  instances: InstancesSource
  supervision: SupervisionPolicy
}

export interface PluginSummary {
  id: string
  kind: PluginKind
  version: string
  description: string | null
  capabilities: readonly string[]
  folder: string
}

export interface HostStatus {
  source: { file: string; error: string | null }
  plugins: PluginSummary[]
  loadFailures: { folder: string; message: string }[]
  instances: InstanceStatus[]
}

/**
 * What the rest of the app sees of plugins: the installed plugins from the
 * generated registry, the instances from the plugins file, and their
 * supervision. Plugin modules are imported on first use (start, status or
 * retry), never while the app boots.
 */
export class PluginHost {
  #supervisor: PluginSupervisor
  #loaded?: Promise<PluginRegistry>
  #entries: unknown[]
  #sourceError: string | null
  /** The kinds this process runs: every kind once `start()` ran, else those `startKind()` named. */
  #running: 'all' | Set<PluginKind> = new Set()
  #replacing: Promise<unknown> = Promise.resolve()

  constructor(
    private loaders: PluginLoaders,
    private config: PluginsConfig,
    logger: Logger
  ) {
    this.#supervisor = new PluginSupervisor(config.supervision, logger)
    this.#entries = config.instances.entries
    this.#sourceError = config.instances.error
  }

  /** The plugins file this host's instances come from. */
  get file() {
    return this.config.instances.file
  }

  /** The installed plugins. */
  async registry() {
    return this.#load()
  }

  #load() {
    this.#loaded ??= (async () => {
      const registry = await PluginRegistry.load(this.loaders)
      const specs = await resolveInstanceSpecs(this.#entries, registry)
      for (const spec of specs) this.#supervisor.add(spec)
      return registry
    })()
    return this.#loaded
  }

  /**
   * Starts every enabled, well-configured instance; resolves when each
   * has either started or failed its first attempt.
   */
  async start() {
    await this.#load()
    this.#running = 'all'
    await this.#supervisor.startAll()
  }

  /**
   * Starts the instances of one kind only: a job worker that needs the
   * recognition engine must not open the gates' ports the server holds.
   */
  async startKind(kind: PluginKind) {
    await this.#load()
    if (this.#running !== 'all') this.#running.add(kind)
    await Promise.all(this.#supervisor.ofKind(kind).map((instance) => instance.start()))
  }

  async stop() {
    if (!this.#loaded) return
    await this.#loaded
    await this.#supervisor.stopAll()
  }

  /**
   * One instance by its id in the plugins file, once the host has started.
   * With a kind, an instance of another kind is not returned, so a setting
   * that names the wrong instance cannot drive a light as a gate.
   */
  instance(id: string): SupervisedInstance | undefined
  instance<Kind extends PluginKind>(id: string, kind: Kind): SupervisedInstance<Kind> | undefined
  instance(id: string, kind?: PluginKind) {
    return kind ? this.#supervisor.get(id, kind) : this.#supervisor.get(id)
  }

  /**
   * Every instance of a kind, running or not, in the plugins file's order;
   * calls go through `instance.use(driver => …)`.
   */
  instancesOfKind<Kind extends PluginKind>(kind: Kind) {
    return this.#supervisor.ofKind(kind)
  }

  /**
   * Puts a new content of the plugins file in force without a restart:
   * unchanged instances keep running, changed and removed ones stop, and
   * new or changed ones start if this process runs their kind. Calls are
   * applied one after another, in the order they were made.
   */
  replaceEntries(entries: unknown[], sourceError: string | null = null) {
    const run = this.#replacing.then(async () => {
      const registry = await this.#load()
      const specs = await resolveInstanceSpecs(entries, registry)
      this.#entries = entries
      this.#sourceError = sourceError
      const running = this.#running
      return this.#supervisor.replace(
        specs,
        (instance) => running === 'all' || (instance.kind !== null && running.has(instance.kind))
      )
    })
    this.#replacing = run.catch(() => {})
    return run
  }

  async retry(id: string): Promise<RetryResult> {
    await this.#load()
    return this.#supervisor.retry(id)
  }

  onTransition(listener: (transition: InstanceTransition) => void) {
    this.#supervisor.on('transition', listener)
    return () => {
      this.#supervisor.off('transition', listener)
    }
  }

  /** Door events the drivers report (a door forced, an exit button, a gate fault). */
  onDoorEvent(listener: (event: InstanceDoorEvent) => void) {
    this.#supervisor.on('door', listener)
    return () => {
      this.#supervisor.off('door', listener)
    }
  }

  async status(): Promise<HostStatus> {
    const registry = await this.#load()
    return {
      source: { file: this.config.instances.file, error: this.#sourceError },
      plugins: registry.all().map(({ folder, plugin }) => ({
        id: plugin.id,
        kind: plugin.kind,
        version: plugin.version,
        description: plugin.description,
        capabilities: plugin.capabilities,
        folder,
      })),
      loadFailures: registry.failures,
      instances: this.#supervisor.all().map((instance) => instance.status()),
    }
  }
}
