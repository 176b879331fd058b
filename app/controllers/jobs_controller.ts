import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import type { I18n } from '@adonisjs/i18n'
import { AuditTrail, actorFromRequest } from '#services/audit_trail'
import {
  JobOverview,
  QueueUnreachable,
  type JobActionResult,
  type JobRow,
} from '#services/job_overview'

@inject()
export default class JobsController {
  constructor(
    private jobs: JobOverview,
    private audit: AuditTrail
  ) {}

  /** The queue at a glance; with Redis unreachable, a 503 page that says so. */
  async index({ view, bouncer, response, i18n }: HttpContext) {
    await bouncer.with('JobPolicy').authorize('view')
    try {
      const snapshot = await this.jobs.snapshot()
      const describe = (job: JobRow) => ({
        ...job,
        title: jobTitle(i18n, job.name),
        concerns: jobConcerns(i18n, job.data),
      })
      return view.render('pages/jobs/index', {
        unreachable: false,
        counts: Object.entries(snapshot.counts).map(([state, total]) => ({ state, total })),
        active: snapshot.active.map(describe),
        pending: snapshot.pending.map(describe),
        failed: snapshot.failed.map(describe),
        completed: snapshot.completed.map(describe),
        schedules: snapshot.schedules.map((schedule) => ({
          ...schedule,
          title: jobTitle(i18n, schedule.name),
        })),
      })
    } catch (error) {
      if (!(error instanceof QueueUnreachable)) throw error
      response.status(503)
      return view.render('pages/jobs/index', { unreachable: true })
    }
  }

  async retry(ctx: HttpContext) {
    return this.#act(ctx, 'retry', (id) => this.jobs.retry(id))
  }

  async destroy(ctx: HttpContext) {
    return this.#act(ctx, 'remove', (id) => this.jobs.remove(id))
  }

  /** A change to a failed job by an administrator, audited. */
  async #act(
    ctx: HttpContext,
    action: 'retry' | 'remove',
    change: (id: string) => Promise<JobActionResult>
  ) {
    await ctx.bouncer.with('JobPolicy').authorize('manage')
    const id = String(ctx.params.jobId)
    let result: JobActionResult
    try {
      result = await change(id)
    } catch (error) {
      if (!(error instanceof QueueUnreachable)) throw error
      ctx.session.flash('error', ctx.i18n.t('jobs.unreachable'))
      return ctx.response.redirect().toRoute('jobs.index')
    }
    if (!result.ok && result.reason === 'not_found') {
      throw new Exception(`No job "${id}"`, { status: 404, code: 'E_NOT_FOUND' })
    }
    if (!result.ok) {
      ctx.session.flash('error', ctx.i18n.t('jobs.not_failed', { id }))
      return ctx.response.redirect().toRoute('jobs.index')
    }

    const { job } = result
    await this.audit.record(actorFromRequest(ctx), {
      action: `job.${action}`,
      subjectType: 'job',
      subjectId: job.id,
      subjectLabel: job.name,
      before: { state: 'failed', failedReason: job.failedReason },
      after: action === 'retry' ? { state: 'waiting' } : null,
    })
    const title = jobTitle(ctx.i18n, job.name)
    ctx.session.flash('success', ctx.i18n.t(`jobs.${action}_done`, { name: title, id: job.id }))
    return ctx.response.redirect().toRoute('jobs.index')
  }
}

/** A job's name in words; one this version does not know by its own name. */
function jobTitle(i18n: I18n, name: string) {
  const key = `jobs.names.${name}`
  return i18n.hasMessage(key) ? i18n.t(key) : name
}

/**
 * What a job is about, from its payload: days, a video, a model, a person
 * or a device, and who asked; else its plain fields.
 */
function jobConcerns(i18n: I18n, data: Record<string, unknown>) {
  const parts: string[] = []
  if (typeof data.olderThanDays === 'number') {
    parts.push(i18n.t('jobs.concerns.older_than', { days: data.olderThanDays }))
  }
  if (typeof data.inactiveDays === 'number') {
    parts.push(i18n.t('jobs.concerns.inactive', { days: data.inactiveDays }))
  }
  if (typeof data.videoEnrolmentId === 'number') {
    parts.push(i18n.t('jobs.concerns.video', { id: data.videoEnrolmentId }))
  }
  if (typeof data.target === 'string') {
    parts.push(i18n.t('jobs.concerns.model', { model: data.target }))
  }
  if (typeof data.personId === 'number') {
    parts.push(i18n.t('jobs.concerns.person', { id: data.personId }))
  }
  if (typeof data.deviceId === 'number') {
    parts.push(i18n.t('jobs.concerns.device', { id: data.deviceId }))
  }
  const actor = data.actor as { label?: unknown } | undefined
  if (typeof actor?.label === 'string') {
    parts.push(i18n.t('jobs.concerns.by', { actor: actor.label }))
  }
  if (parts.length > 0) return parts.join(', ')
  return Object.entries(data)
    .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value))
    .slice(0, 4)
    .map(([key, value]) => `${key}: ${String(value).slice(0, 40)}`)
    .join(', ')
}
