import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import AccessGroup from '#models/access_group'
import Device from '#models/device'
import { AccessGroupService } from '#services/access_group_service'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'
import { accessGroupMessages, groupDeviceValidator } from '#validators/access_group_validator'

/**
 * The devices an access group lets its members through.
 */
@inject()
export default class AccessGroupDevicesController {
  constructor(private groups: AccessGroupService) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const [group, { deviceId }] = await Promise.all([
      AccessGroup.findOrFail(ctx.params.id),
      ctx.request.validateUsing(groupDeviceValidator, accessGroupMessages(ctx.i18n)),
    ])
    const result = await this.groups.addDevice(actorFromRequest(ctx), group, deviceId)
    if (!result.ok) throw fieldError('deviceId', ctx.i18n.t(`access_groups.${result.error.type}`))
    ctx.session.flash(
      'success',
      ctx.i18n.t('access_groups.device_added', { name: result.device.name })
    )
    return ctx.response.redirect().withQs().back()
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const [group, device] = await Promise.all([
      AccessGroup.findOrFail(ctx.params.id),
      Device.findOrFail(ctx.params.deviceId),
    ])
    await this.groups.removeDevice(actorFromRequest(ctx), group, device)
    ctx.session.flash('success', ctx.i18n.t('access_groups.device_removed', { name: device.name }))
    return ctx.response.redirect().withQs().back()
  }
}
