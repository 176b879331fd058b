import vine, { errors } from '@vinejs/vine'
import type { Plugin } from '#plugin-host/define_plugin'
import type { PluginRegistry } from '#plugin-host/registry'

const instanceIdPattern = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/

const entryValidator = vine.create({
  id: vine.string().trim().maxLength(64).regex(instanceIdPattern),
  plugin: vine.string().trim().minLength(1).maxLength(64),
  enabled: vine.boolean({ strict: true }).optional(),
  config: vine.record(vine.any()).optional(),
})

/**
 * One instance as configured. `problem` says why it cannot run (unknown
 * plugin, config its schema rejects, a repeated id); such an instance is
 * shown in an error state and never started.
 */
export interface InstanceSpec {
  id: string
  pluginId: string
  enabled: boolean
  plugin: Plugin | null
  config: unknown
  problem: string | null
}

function describeIssues(issues: { field: string; message: string }[]) {
  return issues.map(({ field, message }) => `${field}: ${message}`).join('; ')
}

async function resolveEntry(
  entry: unknown,
  index: number,
  registry: PluginRegistry
): Promise<InstanceSpec> {
  const raw = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>
  const fallback: InstanceSpec = {
    id: typeof raw.id === 'string' && raw.id.length > 0 ? raw.id : `#${index + 1}`,
    pluginId: typeof raw.plugin === 'string' ? raw.plugin : '',
    enabled: raw.enabled !== false,
    plugin: null,
    config: null,
    problem: null,
  }

  let fields
  try {
    fields = await entryValidator.validate(entry)
  } catch (error) {
    if (!(error instanceof errors.E_VALIDATION_ERROR)) throw error
    return { ...fallback, problem: `Invalid entry: ${describeIssues(error.messages)}` }
  }

  const spec: InstanceSpec = { ...fallback, id: fields.id, pluginId: fields.plugin }
  if (!spec.enabled) return spec

  const plugin = registry.get(fields.plugin)
  if (!plugin) return { ...spec, problem: `No installed plugin has the id "${fields.plugin}"` }

  const parsed = await plugin.parseConfig(fields.config ?? {})
  if (!parsed.ok)
    return { ...spec, plugin, problem: `Invalid config: ${describeIssues(parsed.issues)}` }
  return { ...spec, plugin, config: parsed.config }
}

/**
 * Checks every entry of the plugins file against the installed plugins.
 * A bad entry becomes that instance's error, never an exception, so one
 * typo cannot keep the other instances (or the app) from starting.
 */
export async function resolveInstanceSpecs(entries: unknown[], registry: PluginRegistry) {
  const specs = await Promise.all(
    entries.map((entry, index) => resolveEntry(entry, index, registry))
  )
  const seen = new Set<string>()
  return specs.map((spec, index) => {
    if (!seen.has(spec.id)) {
      seen.add(spec.id)
      return spec
    }
    return {
      ...spec,
      id: `${spec.id}#${index + 1}`,
      problem: `Another instance already uses the id "${spec.id}"`,
    }
  })
}
