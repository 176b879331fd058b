import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import Device, { devicePermissions } from '#models/device'
import { DeviceService } from '#services/device_service'
import { DeviceCommands } from '#services/device_commands'
import { DeviceHeartbeats } from '#services/device_heartbeats'
import { DevicePairingService } from '#services/device_pairing_service'
import { DeviceDoors } from '#services/device_doors'
import { DeviceOnlineStatus } from '#services/device_online_status'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { PendingDeviceCap } from '#services/terminal/pending_device_cap'
import { actorFromRequest } from '#services/audit_trail'
import { unlessRedisIsDown } from '#services/redis_availability'
import { fieldError } from '#validators/field_error'
import {
  deviceSearchValidator,
  deviceStatusValidator,
  updateDeviceValidator,
} from '#validators/device_validator'

@inject()
export default class DevicesController {
  constructor(
    private devices: DeviceService,
    private refusals: DeviceRefusals,
    private pendingCap: PendingDeviceCap,
    private online: DeviceOnlineStatus,
    private doors: DeviceDoors,
    private sync: DeviceSyncLedger,
    private pairing: DevicePairingService,
    private heartbeats: DeviceHeartbeats,
    private commands: DeviceCommands
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('view')
    const filters = await deviceSearchValidator.validate(request.qs())
    const devices = await this.devices.list(filters)
    devices.baseUrl(request.url()).queryString({ q: filters.q, status: filters.status })
    const ids = devices.all().map((device) => device.id)
    const [refusals, cap, presence, sync, heartbeats, pairings] = await Promise.all([
      unlessRedisIsDown(this.refusals.counts(ids), null),
      this.pendingCap.status(),
      this.online.of(devices.all()),
      this.sync.views(ids),
      this.heartbeats.of(ids),
      this.#pairingRequests(),
    ])
    const lastRefusedAt = cap.lastRefusedAt && DateTime.fromJSDate(cap.lastRefusedAt)
    return view.render('pages/devices/index', {
      devices,
      filters,
      refusals,
      pendingCap: { ...cap, lastRefusedAt },
      presence,
      sync,
      syncAlertMinutes: terminalConfig.sync.alertMinutes,
      heartbeats,
      backlogAlertMinutes: terminalConfig.agent.backlogAlertMinutes,
      pairings,
    })
  }

  /** The devices with pairing requests waiting, wherever they are in the list. */
  async #pairingRequests() {
    const waiting = await this.pairing.waitingFor()
    const devices = await Device.query()
      .whereIn('id', [...waiting.keys()])
      .orderBy('name', 'asc')
    return devices.map((device) => ({ device, requests: waiting.get(device.id)! }))
  }

  /**
   * A device as those who may read but not change it see it (auditors):
   * its settings, what it may call, its credential and the calls refused in
   * its name, without a form.
   */
  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('view')
    const device = await Device.findOrFail(params.id)
    const refusals = await this.#refusals(device)
    return view.render('pages/devices/show', {
      device,
      refusals,
      ...(await this.#presence(device)),
    })
  }

  /** Readers who may not change devices are shown the device's page instead. */
  async edit({ params, view, bouncer, response }: HttpContext) {
    if (await bouncer.with('DevicePolicy').denies('manage')) {
      await bouncer.with('DevicePolicy').authorize('view')
      return response.redirect().toRoute('devices.show', { id: params.id })
    }
    const device = await Device.findOrFail(params.id)
    const refusals = await this.#refusals(device)
    return view.render('pages/devices/edit', {
      device,
      permissions: devicePermissions,
      refusals,
      ...(await this.#presenceAndDoor(device)),
    })
  }

  /**
   * Whether the device is online, its access groups, where its face
   * database stands, and its agent's heartbeat, commands and pairing requests.
   */
  async #presence(device: Device) {
    await device.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    const [states, sync, removals, heartbeats, commands, pairings] = await Promise.all([
      this.online.of([device]),
      this.sync.views([device.id]),
      this.sync.removalsFor(device.id),
      this.heartbeats.of([device.id]),
      this.commands.recent(device.id),
      this.pairing.waitingFor([device.id]),
    ])
    return {
      presence: states.get(device.id)!,
      onlineSeconds: this.online.windowMs / 1000,
      sync: sync.get(device.id) ?? null,
      syncAlertMinutes: terminalConfig.sync.alertMinutes,
      removals,
      heartbeat: heartbeats.get(device.id) ?? null,
      backlogAlertMinutes: terminalConfig.agent.backlogAlertMinutes,
      commands,
      pairingRequests: pairings.get(device.id) ?? [],
    }
  }

  /** The device page's presence, and its door with the gates, readers and lights to choose from. */
  async #presenceAndDoor(device: Device) {
    const [presence, door] = await Promise.all([this.#presence(device), this.doors.status(device)])
    const choices = {
      gates: this.doors.gates(),
      readers: this.doors.readers(),
      lights: this.doors.lights(),
    }
    return { ...presence, door, ...choices }
  }

  /** The calls refused in the device's name; null while Redis, which keeps them, is down. */
  async #refusals(device: Device) {
    const kept = await unlessRedisIsDown(this.refusals.of(device.id), null)
    return (
      kept && {
        total: kept.total,
        recent: kept.recent.map((refusal) => ({ ...refusal, at: DateTime.fromMillis(refusal.at) })),
      }
    )
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const { permissions, legacyMode, pinnedAddress, identifyTargetFpir, ...fields } =
      await ctx.request.validateUsing(updateDeviceValidator)
    const ownTarget = identifyTargetFpir === undefined ? null : identifyTargetFpir / 100
    const input = {
      ...fields,
      identifyTargetFpir: ownTarget,
      enrolmentConsentVersion: fields.enrolmentConsentVersion ?? null,
    }
    const result = await this.devices.update(actorFromRequest(ctx), device, input, {
      permissions: permissions ?? [],
      legacyMode: legacyMode ?? false,
      pinnedAddress,
    })
    if (!result.ok && result.error.type === 'no_pinned_address') {
      throw fieldError('pinnedAddress', ctx.i18n.t('devices.access.no_address'))
    }
    if (!result.ok) throw fieldError('name', ctx.i18n.t('devices.duplicate_name'))
    ctx.session.flash('success', ctx.i18n.t('devices.updated', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.index')
  }

  /**
   * Approves or blocks a device. A device approved with a new credential
   * gets a page that shows it this once, not a redirect: the secret must
   * never travel in a flash cookie.
   */
  async status(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    const { status } = await ctx.request.validateUsing(deviceStatusValidator)
    if (status === 'approved') return this.#approve(ctx, device)
    await this.devices.setStatus(actorFromRequest(ctx), device, status)
    ctx.session.flash('success', ctx.i18n.t('devices.blocked_done', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.edit', { id: device.id })
  }

  /** Without access changes, approving cannot fail. */
  async #approve(ctx: HttpContext, device: Device) {
    const result = await this.devices.approve(actorFromRequest(ctx), device)
    if (result.ok && result.secret) {
      ctx.response.header('Cache-Control', 'no-store')
      return ctx.view.render('pages/devices/credential', {
        device,
        secret: result.secret,
        approved: true,
      })
    }
    const message = device.legacyMode ? 'devices.approved_legacy' : 'devices.approved_kept'
    const values = { name: device.name, address: device.pinnedAddress ?? '' }
    ctx.session.flash('success', ctx.i18n.t(message, values))
    return ctx.response.redirect().back()
  }

  /** Blocking asks first: a blocked terminal is refused every call until approved again. */
  async confirmBlock({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    return view.render('pages/devices/block', { device })
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(params.id)
    const events = await this.devices.eventCount(device)
    return view.render('pages/devices/delete', { device, events })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('DevicePolicy').authorize('manage')
    const device = await Device.findOrFail(ctx.params.id)
    await this.devices.delete(actorFromRequest(ctx), device)
    ctx.session.flash('success', ctx.i18n.t('devices.deleted', { name: device.name }))
    return ctx.response.redirect().toRoute('devices.index')
  }
}
