import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Device from '#models/device'
import { LiveDevicePresence } from '#services/live_device_presence'
import type { OnlineState } from '#services/device_online_status'
import { siteTime } from '#services/site_time'

const maxDevices = 200

/**
 * Server-sent online states for the pages that show devices: those named
 * in `ids` (the devices list, a device's page), else every approved
 * device (the dashboard's offline list).
 */
@inject()
export default class DevicePresenceController {
  constructor(private live: LiveDevicePresence) {}

  async stream({ request, response, bouncer }: HttpContext) {
    await bouncer.with('DevicePolicy').authorize('view')
    const ids = String(request.input('ids', ''))
      .split(',')
      .map(Number)
      .filter((id) => Number.isSafeInteger(id) && id > 0)
      .slice(0, maxDevices)
    const stream = this.live.open({
      devices: () =>
        ids.length > 0
          ? Device.query().whereIn('id', ids)
          : Device.query().where('status', 'approved'),
      describe,
    })
    response
      .header('Content-Type', 'text/event-stream; charset=utf-8')
      .header('Cache-Control', 'no-store')
    return response.stream(stream)
  }
}

/** A device's state as public/js/device_presence.js applies it. */
function describe(state: OnlineState) {
  return {
    id: state.id,
    online: state.online,
    seen: state.lastSeenAt ? siteTime(state.lastSeenAt) : null,
    seenIso: state.lastSeenAt?.toISO() ?? null,
    address: state.address,
  }
}
