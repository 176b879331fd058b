import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import Person from '#models/person'
import { actorFromRequest } from '#services/audit_trail'
import { DeviceCommands } from '#services/device_commands'
import { consentAt } from '#services/terminal/face_registration_service'
import { fieldError } from '#validators/field_error'
import { deviceCommandValidator } from '#validators/terminal_agent_validator'

/**
 * Commands for a terminal agent from its page: opening its door (those who
 * may open doors), syncing now, restarting it (a restart is confirmed
 * first) and enrolling a person at it (those who manage devices; only a
 * device allowed to enrol).
 */
@inject()
export default class DeviceCommandsController {
  constructor(private commands: DeviceCommands) {}

  async store(ctx: HttpContext) {
    const { type, person: chosen } = await ctx.request.validateUsing(deviceCommandValidator)
    const policy = type === 'open_door' ? 'AccessEventPolicy' : 'DevicePolicy'
    await ctx.bouncer.with(policy).authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    if (!device.isApproved) {
      ctx.session.flash('error', ctx.i18n.t('devices.agent.not_approved', { name: device.name }))
      return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
    }
    let person: Person | undefined
    if (type === 'enrol') {
      if (!device.may('enrolment')) {
        throw fieldError('person', ctx.i18n.t('devices.agent.enrol.not_allowed'), 'permission')
      }
      person = await this.#person(chosen)
      if (!person) {
        throw fieldError('person', ctx.i18n.t('devices.agent.enrol.unknown_person'))
      }
      // The terminal would be refused: say so here, where it can be put right.
      if (!person.consentGivenAt && !consentAt(device)) {
        throw fieldError(
          'person',
          ctx.i18n.t('devices.agent.enrol.no_consent', { person: person.displayName }),
          'consent'
        )
      }
    }
    await this.commands.queue(actorFromRequest(ctx), device, type, person)
    ctx.session.flash(
      'success',
      ctx.i18n.t(`devices.agent.queued.${type}`, {
        name: device.name,
        person: person?.displayName ?? '',
      })
    )
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }

  async confirmRestart({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    return view.render('pages/devices/restart', { device })
  }

  /** The person by username, else by a name only one person has. */
  async #person(chosen: string | undefined) {
    if (!chosen) return undefined
    const byUsername = await Person.findBy('username', chosen)
    if (byUsername) return byUsername
    const named = await Person.query().where('display_name', chosen).limit(2)
    return named.length === 1 ? named[0] : undefined
  }
}
