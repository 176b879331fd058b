import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { actorFromRequest } from '#services/audit_trail'
import { DevicePairingService } from '#services/device_pairing_service'
import { fieldError } from '#validators/field_error'
import { pairingApprovalValidator } from '#validators/terminal_agent_validator'

/**
 * Pairing requests on the device pages: the operator types the code the
 * terminal shows, and that request alone receives the device's credential.
 */
@inject()
export default class DevicePairingsController {
  constructor(private pairing: DevicePairingService) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const { code } = await ctx.request.validateUsing(pairingApprovalValidator)
    const result = await this.pairing.approve(actorFromRequest(ctx), device, code)
    if (!result.ok) {
      throw fieldError('code', ctx.i18n.t(`devices.pairing.${result.error.type}`, { code }))
    }
    const message =
      result.refused > 0 ? 'devices.pairing.approved_refused' : 'devices.pairing.approved'
    ctx.session.flash('success', ctx.i18n.t(message, { name: device.name, count: result.refused }))
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const refused = await this.pairing.refuseAll(actorFromRequest(ctx), device)
    ctx.session.flash(
      'success',
      ctx.i18n.t('devices.pairing.refused', { name: device.name, count: refused })
    )
    return ctx.response.redirect().back()
  }
}
