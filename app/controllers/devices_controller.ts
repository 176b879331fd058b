import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { DeviceService } from '#services/device_service'
import { actorFromRequest } from '#services/audit_trail'
import { fieldError } from '#validators/field_error'
import {
  deviceSearchValidator,
  deviceStatusValidator,
  updateDeviceValidator,
} from '#validators/device_validator'

@inject()
export default class DevicesController {
  constructor(private devices: DeviceService) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('view')
    const filters = await deviceSearchValidator.validate(request.qs())
    const devices = await this.devices.list(filters)
    devices.baseUrl(request.url()).queryString({ q: filters.q, status: filters.status })
    return view.render('pages/devices/index', { devices, filters })
  }

  async edit({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    return view.render('pages/devices/edit', { device })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(updateDeviceValidator)
    const result = await this.devices.update(actorFromRequest(ctx), device, input)
    if (!result.ok) throw fieldError('name', ctx.i18n.t('devices.duplicate_name'))
    ctx.session.flash('success', ctx.i18n.t('devices.updated', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.index')
  }

  async status(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const { status } = await ctx.request.validateUsing(deviceStatusValidator)
    await this.devices.setStatus(actorFromRequest(ctx), device, status)
    ctx.session.flash('success', ctx.i18n.t(`devices.${status}_done`, { name: device.name }))
    return ctx.response.redirect().back()
  }
}
