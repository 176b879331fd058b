import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import type { Plugin } from '#plugin-host/define_plugin'
import { PluginHost } from '#plugin-host/plugin_host'
import { actorFromRequest } from '#services/audit_trail'
import {
  defaultsOf,
  describeConfigForm,
  formValuesOf,
  issuesByField,
  readConfigForm,
  type FormValues,
} from '#services/plugins/plugin_config_form'
import { PluginInstanceTests, instanceTests } from '#services/plugins/plugin_instance_tests'
import {
  PluginInstances,
  type InstanceEntry,
  type InstanceRefusal,
} from '#services/plugins/plugin_instances'
import { pluginInstanceValidator } from '#validators/plugin_instance_validator'

type FormState = {
  plugin: Plugin
  /** The instance's id in the file; null for a new instance. */
  instanceId: string | null
  id: string
  enabled: boolean
  values: FormValues
  errors: Record<string, string>
}

/**
 * Plugin instances on the Settings pages: administrators add, change,
 * switch off and remove them with a form made from the plugin's config
 * schema, and try them with the test buttons of their kind; auditors see
 * the same pages without the means to change or test anything.
 */
@inject()
export default class PluginInstancesController {
  constructor(
    private instances: PluginInstances,
    private tests: PluginInstanceTests,
    private host: PluginHost
  ) {}

  async create(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const plugin = await this.#plugin(ctx.request.qs().plugin)
    const values = formValuesOf(plugin.configSchema, defaultsOf(plugin.configSchema))
    return this.#render(ctx, {
      plugin,
      instanceId: null,
      id: '',
      enabled: true,
      values,
      errors: {},
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(pluginInstanceValidator)
    const plugin = await this.#plugin(input.plugin)
    return this.#save(ctx, plugin, null, input)
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('view')
    const entry = this.#entry(ctx.params.instance)
    const plugin = await this.#plugin(entry.plugin)
    const values = formValuesOf(plugin.configSchema, entry.config)
    const state = { plugin, instanceId: entry.id, id: entry.id, enabled: entry.enabled }
    return this.#render(ctx, { ...state, values, errors: {} })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const entry = this.#entry(ctx.params.instance)
    const input = await ctx.request.validateUsing(pluginInstanceValidator)
    const plugin = await this.#plugin(entry.plugin)
    return this.#save(ctx, plugin, entry.id, input)
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const id = ctx.params.instance
    const removed = await this.instances.remove(actorFromRequest(ctx), id)
    if (!removed.ok && removed.error.type === 'unknown_instance') this.#notFound(id)
    if (!removed.ok) {
      ctx.session.flash('error', this.#refusal(ctx, id, removed.error))
      return ctx.response.redirect().toRoute('settings.plugins.edit', { instance: id })
    }
    ctx.session.flash('success', ctx.i18n.t('settings.instance_form.removed', { id }))
    return ctx.response.redirect().toRoute('settings.index')
  }

  /** A test button: the driver's answer or error goes back to the instance's page. */
  async test(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const { instance: id, test } = ctx.params
    const outcome = await this.tests.run(actorFromRequest(ctx), id, test)
    if (!outcome) this.#notFound(id)
    ctx.session.flash('pluginTest', {
      test: outcome.test,
      ok: outcome.ok,
      answer: outcome.ok ? JSON.stringify(outcome.answer, null, 2) : null,
      error: outcome.ok ? null : outcome.error,
    })
    return ctx.response.redirect().toRoute('settings.plugins.edit', { instance: id })
  }

  async #save(
    ctx: HttpContext,
    plugin: Plugin,
    instanceId: string | null,
    input: { id: string; enabled?: boolean; config?: unknown }
  ) {
    const { i18n } = ctx
    const read = readConfigForm(plugin.configSchema, input.config, (message) =>
      i18n.t('settings.instance_form.invalid_json', { message })
    )
    const values = (
      input.config && typeof input.config === 'object' ? input.config : {}
    ) as FormValues
    const state = { plugin, instanceId, id: input.id, enabled: input.enabled ?? false, values }
    if (Object.keys(read.errors).length > 0) {
      return this.#render(ctx, { ...state, errors: read.errors }, 422)
    }
    const entry: InstanceEntry = {
      id: input.id,
      plugin: plugin.id,
      enabled: state.enabled,
      config: read.config,
    }
    const saved = await this.instances.save(actorFromRequest(ctx), instanceId, entry)
    if (!saved.ok && saved.error.type === 'unknown_instance') this.#notFound(instanceId ?? '')
    if (!saved.ok) {
      const errors = this.#errors(ctx, state, saved.error)
      return this.#render(ctx, { ...state, errors }, 422)
    }
    ctx.session.flash('success', i18n.t('settings.instance_form.saved', { id: saved.entry.id }))
    return ctx.response.redirect().toRoute('settings.plugins.edit', { instance: saved.entry.id })
  }

  /**
   * A refused change as the form's errors: the schema's issues under their
   * fields, the id's problems under the id ('@id', no config field is
   * named so), anything else above the form ('').
   */
  #errors(ctx: HttpContext, state: Omit<FormState, 'errors'>, error: InstanceRefusal) {
    if (error.type === 'invalid_config') {
      const fields = describeConfigForm(state.plugin.configSchema, state.values, {})
      return issuesByField(fields, error.issues)
    }
    const message = this.#refusal(ctx, state.instanceId ?? state.id, error)
    const aboutId = ['id_taken', 'invalid_id', 'in_use'].includes(error.type)
    return { [aboutId ? '@id' : '']: message }
  }

  async #render(ctx: HttpContext, state: FormState, status = 200) {
    const { plugin, instanceId, errors } = state
    const instance = instanceId === null ? null : (this.host.instance(instanceId) ?? null)
    const usedBy = instanceId === null ? [] : await this.instances.devicesUsing(instanceId)
    ctx.response.status(status)
    return ctx.view.render('pages/settings/plugin_instance', {
      plugin,
      instanceId,
      id: state.id,
      enabled: state.enabled,
      fields: describeConfigForm(plugin.configSchema, state.values, errors),
      errors,
      status: instance?.status() ?? null,
      tests: instance?.kind ? instanceTests[instance.kind] : [],
      usedBy,
      canManage: await ctx.bouncer.with('SettingsPolicy').allows('manage'),
    })
  }

  async #plugin(id: unknown) {
    const plugin = typeof id === 'string' ? await this.instances.plugin(id) : null
    if (!plugin) {
      throw new Exception(`No installed plugin "${String(id)}"`, {
        status: 404,
        code: 'E_NOT_FOUND',
      })
    }
    return plugin
  }

  #entry(id: string) {
    const entry = this.instances.entry(id)
    if (!entry) this.#notFound(id)
    return entry
  }

  #notFound(id: string): never {
    throw new Exception(`No plugin instance "${id}"`, { status: 404, code: 'E_NOT_FOUND' })
  }

  #refusal({ i18n }: HttpContext, id: string, error: InstanceRefusal) {
    switch (error.type) {
      case 'in_use':
        return i18n.t('settings.instance_form.in_use', {
          id,
          devices: error.devices.map((device) => device.name).join(', '),
        })
      case 'file_unreadable':
        return i18n.t('settings.instance_form.file_unreadable', { message: error.message })
      case 'invalid_config':
        return error.issues.map((issue) => `${issue.field}: ${issue.message}`).join(' ')
      default:
        return i18n.t(`settings.instance_form.${error.type}`, { id })
    }
  }
}
