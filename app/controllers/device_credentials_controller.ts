import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { actorFromRequest } from '#services/audit_trail'
import { DeviceCredentials } from '#services/device_credentials'

/**
 * The credential section of a device's page. A new credential is shown on
 * a page of its own, this once and never cached; the one it replaces stops
 * working at once.
 */
@inject()
export default class DeviceCredentialsController {
  constructor(private credentials: DeviceCredentials) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const secret = await this.credentials.issue(actorFromRequest(ctx), device)
    ctx.response.header('Cache-Control', 'no-store')
    return ctx.view.render('pages/devices/credential', { device, secret, approved: false })
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    return view.render('pages/devices/revoke_credential', { device })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    await this.credentials.revoke(actorFromRequest(ctx), device)
    ctx.session.flash('success', ctx.i18n.t('devices.credential.revoked', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }
}
