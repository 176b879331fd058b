import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { actorFromRequest } from '#services/audit_trail'
import { DeviceDoors, type DoorRefusal } from '#services/device_doors'
import { deviceDoorValidator } from '#validators/device_door_validator'
import { fieldError } from '#validators/field_error'

/**
 * The door at a device: which gate opens it, set by those who manage
 * devices, and opening it, by those who may open doors (operators and
 * administrators).
 */
@inject()
export default class DeviceDoorsController {
  constructor(private doors: DeviceDoors) {}

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(deviceDoorValidator)
    const saved = await this.doors.configure(actorFromRequest(ctx), device, input)
    if (!saved.ok) {
      const id = input[saved.field] ?? ''
      throw fieldError(saved.field, ctx.i18n.t(`devices.door.not_a_${saved.field}`, { id }))
    }
    ctx.session.flash('success', ctx.i18n.t('devices.door.saved', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }

  async open(ctx: HttpContext) {
    await ctx.bouncer.with('AccessEventPolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const result = await this.doors.open(actorFromRequest(ctx), device)
    if (result.ok) {
      const seconds = result.durationMs / 1000
      ctx.session.flash(
        'success',
        ctx.i18n.t('devices.door.opened', { name: device.name, seconds })
      )
    } else {
      ctx.session.flash('error', this.#refusal(ctx, device, result.error))
    }
    return ctx.response.redirect().back()
  }

  #refusal({ i18n }: HttpContext, device: Device, error: DoorRefusal) {
    const name = device.name
    switch (error.type) {
      case 'no_gate':
        return i18n.t('devices.door.no_gate', { name })
      case 'gate_missing':
        return i18n.t('devices.door.gate_missing', { name, gate: error.gate })
      case 'gate_unavailable':
        return i18n.t('devices.door.gate_unavailable', {
          gate: error.gate,
          state: i18n.t(`settings.states.${error.state}`),
        })
      case 'gate_failed':
        return i18n.t('devices.door.gate_failed', { gate: error.gate, message: error.message })
    }
  }
}
