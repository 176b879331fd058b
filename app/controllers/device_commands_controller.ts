import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { actorFromRequest } from '#services/audit_trail'
import { DeviceCommands } from '#services/device_commands'
import { deviceCommandValidator } from '#validators/terminal_agent_validator'

/**
 * Commands for a terminal agent from its page: opening its door (those who
 * may open doors), syncing now and restarting it (those who manage
 * devices; a restart is confirmed first).
 */
@inject()
export default class DeviceCommandsController {
  constructor(private commands: DeviceCommands) {}

  async store(ctx: HttpContext) {
    const { type } = await ctx.request.validateUsing(deviceCommandValidator)
    const policy = type === 'open_door' ? 'AccessEventPolicy' : 'DevicePolicy'
    await ctx.bouncer.with(policy).authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    if (!device.isApproved) {
      ctx.session.flash('error', ctx.i18n.t('devices.agent.not_approved', { name: device.name }))
      return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
    }
    await this.commands.queue(actorFromRequest(ctx), device, type)
    ctx.session.flash('success', ctx.i18n.t(`devices.agent.queued.${type}`, { name: device.name }))
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }

  async confirmRestart({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    return view.render('pages/devices/restart', { device })
  }
}
