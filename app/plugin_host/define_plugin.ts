import vine, { errors } from '@vinejs/vine'
import type { JSONSchema7 } from 'json-schema'
import type { Infer, SchemaTypes } from '@vinejs/vine/types'
import {
  pluginKinds,
  type DriverFor,
  type PluginContext,
  type PluginKind,
  type PluginTimeouts,
} from '#plugin-host/contracts'
import { PluginError, type ConfigIssue } from '#plugin-host/errors'

const pluginBrand = Symbol('faceaccess.plugin')

const pluginIdPattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/
const versionPattern = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/

export interface PluginManifest<Kind extends PluginKind> {
  /** Unique, kebab-case: the plugins file names it in `"plugin"`. */
  id: string
  kind: Kind
  /** Semantic version of the plugin itself. */
  version: string
  description?: string
  /** What this plugin can do beyond its kind's minimum (`color`, `embed`…). */
  capabilities?: readonly string[]
  /** Model files under `models/` it needs, by manifest name. */
  models?: readonly string[]
  timeouts?: Partial<PluginTimeouts>
}

export interface PluginDefinition<
  Kind extends PluginKind,
  Schema extends SchemaTypes,
> extends PluginManifest<Kind> {
  /** VineJS schema of an instance's `config` in the plugins file. */
  config: Schema
  /**
   * Builds the driver for one instance. No I/O here: ports, files and
   * models are opened in the driver's `start()`.
   */
  create(context: PluginContext<Infer<Schema>>): DriverFor<Kind>
}

export type ConfigResult<Config> =
  { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] }

export interface Plugin<Kind extends PluginKind = PluginKind, Config = any> {
  readonly [pluginBrand]: true
  readonly id: string
  readonly kind: Kind
  readonly version: string
  readonly description: string | null
  readonly capabilities: readonly string[]
  readonly models: readonly string[]
  /** Only what the plugin declared; the host's defaults fill the rest. */
  readonly timeouts: Readonly<Partial<PluginTimeouts>>
  /** The config schema as JSON Schema, which the Settings pages build an instance's form from. */
  readonly configSchema: JSONSchema7
  parseConfig(input: unknown): Promise<ConfigResult<Config>>
  create(context: PluginContext<Config>): DriverFor<Kind>
}

function assertManifest(manifest: PluginManifest<PluginKind>) {
  const problems = [
    !pluginIdPattern.test(manifest.id) && `id "${manifest.id}" is not kebab-case`,
    !(pluginKinds as readonly string[]).includes(manifest.kind) &&
      `kind "${manifest.kind}" is not one of ${pluginKinds.join(', ')}`,
    !versionPattern.test(manifest.version) &&
      `version "${manifest.version}" is not a semantic version`,
  ].filter(Boolean)
  if (problems.length > 0) {
    throw new PluginError(`Invalid plugin manifest: ${problems.join('; ')}`, 'E_PLUGIN_MANIFEST')
  }
}

/**
 * Declares a plugin: the default export of `plugins/<folder>/plugin.ts`.
 * A broken manifest throws on import, which the registry reports against
 * that folder without affecting other plugins.
 */
export function definePlugin<Kind extends PluginKind, Schema extends SchemaTypes>(
  definition: PluginDefinition<Kind, Schema>
): Plugin<Kind, Infer<Schema>> {
  assertManifest(definition)
  const validator = vine.create(definition.config)

  return Object.freeze({
    [pluginBrand]: true as const,
    id: definition.id,
    kind: definition.kind,
    version: definition.version,
    description: definition.description ?? null,
    capabilities: Object.freeze([...(definition.capabilities ?? [])]),
    models: Object.freeze([...(definition.models ?? [])]),
    timeouts: Object.freeze({ ...definition.timeouts }),
    configSchema: definition.config.toJSONSchema(),

    async parseConfig(input: unknown): Promise<ConfigResult<Infer<Schema>>> {
      try {
        return { ok: true, config: await validator.validate(input) }
      } catch (error) {
        if (!(error instanceof errors.E_VALIDATION_ERROR)) throw error
        const messages = error.messages as { field: string; message: string }[]
        return { ok: false, issues: messages.map(({ field, message }) => ({ field, message })) }
      }
    },

    create: (context: PluginContext<Infer<Schema>>) => definition.create(context),
  })
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && pluginBrand in value
}
