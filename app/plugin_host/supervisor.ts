import { EventEmitter } from 'node:events'
import type { Logger } from '@adonisjs/core/logger'
import type { PluginKind } from '#plugin-host/contracts'
import type { InstanceSpec } from '#plugin-host/instance_config'
import {
  SupervisedInstance,
  type InstanceDoorEvent,
  type InstanceTransition,
  type RetryResult,
  type SupervisionPolicy,
} from '#plugin-host/supervised_instance'

export interface SupervisorEvents {
  transition: [InstanceTransition]
  door: [InstanceDoorEvent]
}

/**
 * Owns every configured instance. Instances start and stop side by side,
 * so one that hangs or fails costs the others nothing; each state change
 * is logged and emitted as a `transition` event, and each door event a
 * driver reports is emitted as a `door` event.
 */
export class PluginSupervisor extends EventEmitter<SupervisorEvents> {
  #instances = new Map<string, SupervisedInstance>()

  constructor(
    private policy: SupervisionPolicy,
    private logger: Logger
  ) {
    super()
  }

  add(spec: InstanceSpec) {
    const instance = this.#create(spec)
    this.#instances.set(spec.id, instance)
    return instance
  }

  #create(spec: InstanceSpec) {
    return new SupervisedInstance(
      spec,
      this.policy,
      this.logger,
      (transition) => this.#report(transition),
      (event) => this.emit('door', event)
    )
  }

  /**
   * Puts `specs` in force in their order: an instance whose spec did not
   * change keeps running untouched; a changed or removed one is stopped
   * (its port released) before any new one starts, so that a driver given
   * the same port again can open it. `startable` says which new instances
   * start (those of the kinds this process runs).
   */
  async replace(specs: InstanceSpec[], startable: (instance: SupervisedInstance) => boolean) {
    const next = new Map<string, SupervisedInstance>()
    const retired: SupervisedInstance[] = []
    const fresh: SupervisedInstance[] = []
    for (const spec of specs) {
      const current = this.#instances.get(spec.id)
      if (current && current.sameSpec(spec)) {
        next.set(spec.id, current)
        continue
      }
      if (current) retired.push(current)
      const instance = this.#create(spec)
      next.set(spec.id, instance)
      fresh.push(instance)
    }
    for (const [id, instance] of this.#instances) {
      if (!next.has(id)) retired.push(instance)
    }
    this.#instances = next
    await Promise.all(retired.map((instance) => instance.stop()))
    await Promise.all(fresh.filter(startable).map((instance) => instance.start()))
    return { started: fresh.map(({ id }) => id), stopped: retired.map(({ id }) => id) }
  }

  get(id: string): SupervisedInstance | undefined
  get<Kind extends PluginKind>(id: string, kind: Kind): SupervisedInstance<Kind> | undefined
  get(id: string, kind?: PluginKind) {
    const instance = this.#instances.get(id)
    return kind && instance?.kind !== kind ? undefined : instance
  }

  all() {
    return [...this.#instances.values()]
  }

  ofKind<Kind extends PluginKind>(kind: Kind) {
    return this.all().filter(
      (instance): instance is SupervisedInstance<Kind> => instance.kind === kind
    )
  }

  async startAll() {
    await Promise.all(this.all().map((instance) => instance.start()))
  }

  async stopAll() {
    await Promise.all(this.all().map((instance) => instance.stop()))
  }

  async retry(id: string): Promise<RetryResult> {
    const instance = this.#instances.get(id)
    if (!instance) return { ok: false, reason: 'unknown_instance', state: null }
    return instance.retry()
  }

  #report(transition: InstanceTransition) {
    const details = {
      instance: transition.instanceId,
      plugin: transition.pluginId,
      from: transition.from,
      to: transition.to,
      error: transition.error?.message,
      retryInMs: transition.retryInMs ?? undefined,
    }
    if (transition.to === 'degraded' || transition.to === 'waiting_for_operator') {
      this.logger.warn(details, 'plugin instance %s is %s', transition.instanceId, transition.to)
    } else {
      this.logger.info(details, 'plugin instance %s is %s', transition.instanceId, transition.to)
    }

    /**
     * A listener's mistake must not break supervision of the instance.
     */
    try {
      this.emit('transition', transition)
    } catch (error) {
      this.logger.error({ err: error }, 'plugin transition listener failed')
    }
  }
}
