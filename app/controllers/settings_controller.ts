import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import { PluginHost } from '#plugin-host/plugin_host'
import { AuditTrail, actorFromRequest } from '#services/audit_trail'
import { IdentificationOverview } from '#faces/identification_overview'
import { FaceReembedding } from '#faces/face_reembedding'
import { RecognitionEngine } from '#faces/recognition_engine'
import { retentionInForce } from '#services/retention_service'

@inject()
export default class SettingsController {
  constructor(
    private plugins: PluginHost,
    private audit: AuditTrail,
    private identification: IdentificationOverview,
    private reembedding: FaceReembedding,
    private recognition: RecognitionEngine
  ) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('SettingsPolicy').authorize('view')
    const [status, identification, reembedding, toReenrol] = await Promise.all([
      this.plugins.status(),
      this.identification.current(),
      this.recognition.configuredModel().then((model) => this.reembedding.progress(model)),
      this.reembedding.toReenrol(),
    ])
    return view.render('pages/settings/index', {
      status,
      identification,
      retention: retentionInForce(),
      reembedding: { ...reembedding, toReenrol },
    })
  }

  /** An administrator starts the re-embedding to the model the engine is configured with. */
  async reembed(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const configured = await this.recognition.configuredModel()
    const queued = await this.reembedding.start(configured, actorFromRequest(ctx))
    ctx.session.flash(
      queued ? 'success' : 'error',
      ctx.i18n.t(queued ? 'settings.reembedding.queued' : 'settings.reembedding.nothing_to_do', {
        model: queued?.target ?? '',
      })
    )
    return ctx.response.redirect().toRoute('settings.index')
  }

  /**
   * An administrator's retry of a failing plugin instance, audited because
   * it restarts hardware drivers (a gate, a reader) on the spot.
   */
  async retry(ctx: HttpContext) {
    await ctx.bouncer.with('SettingsPolicy').authorize('manage')
    const id = ctx.params.id
    const result = await this.plugins.retry(id)
    if (!result.ok && result.reason === 'unknown_instance') {
      throw new Exception(`No plugin instance "${id}"`, { status: 404, code: 'E_NOT_FOUND' })
    }

    if (!result.ok) {
      ctx.session.flash('error', ctx.i18n.t('settings.not_retryable', { id }))
    } else {
      await this.audit.record(actorFromRequest(ctx), {
        action: 'plugin.retry',
        subjectType: 'plugin_instance',
        subjectId: id,
        after: { state: result.state },
      })
      const outcome = result.state === 'running' ? 'success' : 'error'
      const message =
        result.state === 'running' ? 'settings.retry_running' : 'settings.retry_failed'
      ctx.session.flash(outcome, ctx.i18n.t(message, { id }))
    }
    return ctx.response.redirect().toRoute('settings.index')
  }
}
