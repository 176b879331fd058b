import { inject } from '@adonisjs/core'
import Device from '#models/device'
import type { Plugin } from '#plugin-host/define_plugin'
import type { ConfigIssue } from '#plugin-host/errors'
import { readInstancesFile, writeInstancesFile } from '#plugin-host/instances_file'
import { PluginHost } from '#plugin-host/plugin_host'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { doorSettingOf } from '#services/doors/door_setting'
import { PluginChangeNotices } from '#services/plugins/plugin_change_notices'

const instanceIdPattern = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/

/** One entry of the plugins file. */
export interface InstanceEntry {
  id: string
  plugin: string
  enabled: boolean
  config: Record<string, unknown>
}

/** A device whose Door setting names an instance. */
export interface DeviceUsingInstance {
  id: number
  name: string
}

export type InstanceRefusal =
  | { type: 'file_unreadable'; message: string }
  | { type: 'unknown_plugin' }
  | { type: 'unknown_instance' }
  | { type: 'invalid_id' }
  | { type: 'id_taken' }
  | { type: 'invalid_config'; issues: ConfigIssue[] }
  | { type: 'in_use'; devices: DeviceUsingInstance[] }

export type InstanceChange =
  { ok: true; entry: InstanceEntry } | { ok: false; error: InstanceRefusal }

/**
 * The plugins file as administrators edit it from the Settings pages: an
 * instance added, changed (config, on/off, its id) or removed is checked
 * with its plugin's own schema, written to the file (whole, atomically,
 * the previous file kept as `.bak`), put in force in this process at once
 * (the old instance stopped, the new one started, supervised as before),
 * announced to the other processes, and audited. An instance a device's
 * Door setting names keeps its id while the device does.
 *
 * Changes are made one at a time in this process, each on the file as it
 * is on disk then, so that an edit made by hand meanwhile is kept.
 */
/** Changes in progress in this process, one after another. */
let changes: Promise<unknown> = Promise.resolve()

@inject()
export class PluginInstances {
  constructor(
    private host: PluginHost,
    private audit: AuditTrail
  ) {}

  async plugins() {
    const registry = await this.host.registry()
    return registry.all().map(({ plugin }) => plugin)
  }

  async plugin(id: string): Promise<Plugin | null> {
    const registry = await this.host.registry()
    return registry.get(id) ?? null
  }

  /** The instance's entry as the file holds it now, or null. */
  entry(id: string): InstanceEntry | null {
    const source = readInstancesFile(this.host.file, false)
    const found = source.entries.find((entry) => (entry as { id?: unknown } | null)?.id === id) as
      Partial<InstanceEntry> | undefined
    if (!found) return null
    return {
      id,
      plugin: String(found.plugin ?? ''),
      enabled: found.enabled !== false,
      config: (found.config ?? {}) as Record<string, unknown>,
    }
  }

  /** The devices whose Door setting names the instance, as gate, reader or light. */
  async devicesUsing(id: string): Promise<DeviceUsingInstance[]> {
    const devices = await Device.query().orderBy('name')
    return devices
      .filter((device) => {
        const setting = doorSettingOf(device)
        return setting && [setting.gate, setting.reader, setting.light].includes(id)
      })
      .map((device) => ({ id: device.id, name: device.name }))
  }

  /** Adds an instance (`previousId` null) or changes the one now called `previousId`. */
  save(actor: Actor, previousId: string | null, input: InstanceEntry): Promise<InstanceChange> {
    return this.#exclusive(async () => {
      const plugin = await this.plugin(input.plugin)
      if (!plugin) return refuse({ type: 'unknown_plugin' })
      if (!instanceIdPattern.test(input.id) || input.id.length > 64) {
        return refuse({ type: 'invalid_id' })
      }
      const parsed = await plugin.parseConfig(input.config)
      if (!parsed.ok) return refuse({ type: 'invalid_config', issues: parsed.issues })

      const source = readInstancesFile(this.host.file, false)
      if (source.error) return refuse({ type: 'file_unreadable', message: source.error })
      const entries = [...source.entries]
      const index =
        previousId === null ? -1 : entries.findIndex((entry) => idOf(entry) === previousId)
      if (previousId !== null && index === -1) return refuse({ type: 'unknown_instance' })
      if (entries.some((entry, at) => at !== index && idOf(entry) === input.id)) {
        return refuse({ type: 'id_taken' })
      }
      if (previousId !== null && previousId !== input.id) {
        const devices = await this.devicesUsing(previousId)
        if (devices.length > 0) return refuse({ type: 'in_use', devices })
      }

      const entry: InstanceEntry = {
        id: input.id,
        plugin: plugin.id,
        enabled: input.enabled,
        config: parsed.config as Record<string, unknown>,
      }
      const before = index === -1 ? null : (entries[index] as Record<string, unknown>)
      if (index === -1) entries.push(entry)
      else entries[index] = entry
      await this.#write(entries)
      await this.audit.record(actor, {
        action: index === -1 ? 'plugin.create' : 'plugin.update',
        subjectType: 'plugin_instance',
        subjectId: entry.id,
        subjectLabel: `${entry.id} (${plugin.id})`,
        before,
        after: { ...entry },
      })
      return { ok: true as const, entry }
    })
  }

  /** Removes the instance, unless a device's Door setting names it. */
  remove(actor: Actor, id: string): Promise<InstanceChange> {
    return this.#exclusive(async () => {
      const source = readInstancesFile(this.host.file, false)
      if (source.error) return refuse({ type: 'file_unreadable', message: source.error })
      const index = source.entries.findIndex((entry) => idOf(entry) === id)
      if (index === -1) return refuse({ type: 'unknown_instance' })
      const devices = await this.devicesUsing(id)
      if (devices.length > 0) return refuse({ type: 'in_use', devices })

      const removed = source.entries[index] as InstanceEntry
      await this.#write(source.entries.filter((_, at) => at !== index))
      await this.audit.record(actor, {
        action: 'plugin.remove',
        subjectType: 'plugin_instance',
        subjectId: id,
        subjectLabel: `${id} (${String(removed.plugin ?? '')})`,
        before: { ...removed },
      })
      return { ok: true as const, entry: removed }
    })
  }

  async #write(entries: unknown[]) {
    await writeInstancesFile(this.host.file, entries)
    await this.host.replaceEntries(entries)
    await new PluginChangeNotices(this.host.file).announce()
  }

  #exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = changes.then(step)
    changes = run.catch(() => {})
    return run
  }
}

function idOf(entry: unknown) {
  return (entry as { id?: unknown } | null)?.id
}

function refuse(error: InstanceRefusal): InstanceChange {
  return { ok: false, error }
}
