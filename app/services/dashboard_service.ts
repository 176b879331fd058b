import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import AccessEvent from '#models/access_event'
import Device from '#models/device'
import { DeviceOnlineStatus } from '#services/device_online_status'
import { siteNow } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'

/** How many of the latest events the dashboard lists. */
export const recentEventsShown = 10

/**
 * The hourly chart's drawing, in SVG user units: 24 bars of `barWidth`
 * with `gap` between them, `plotHeight` tall for the busiest hour.
 * public/js/dashboard_live.js redraws the bars with the same numbers.
 */
export const hourlyChart = { barWidth: 8, gap: 2, plotHeight: 48, height: 60 }

export type HourCount = { hour: number; granted: number; denied: number }

/**
 * What the dashboard shows: the counts, the latest events, today's events
 * by hour and the approved devices with whether each is online. The page
 * keeps them current over the live event and presence streams.
 */
@inject()
export class DashboardService {
  constructor(private online: DeviceOnlineStatus) {}

  async summary() {
    const count = async (table: string, where?: Record<string, unknown>) => {
      const query = db.from(table).count('* as total')
      if (where) query.where(where)
      const [row] = await query
      return Number(row.total)
    }
    const hours = await this.hourly()
    return {
      people: await count('people'),
      activePeople: await count('people', { status: 'active' }),
      faces: await count('faces'),
      devicesApproved: await count('devices', { status: 'approved' }),
      devicesPending: await count('devices', { status: 'pending' }),
      devicesBlocked: await count('devices', { status: 'blocked' }),
      eventsToday: hours.reduce((sum, hour) => sum + hour.granted + hour.denied, 0),
      deniedToday: hours.reduce((sum, hour) => sum + hour.denied, 0),
      hours,
    }
  }

  /** Everything the dashboard page shows, as of now. */
  async page() {
    const [summary, events, devices] = await Promise.all([
      this.summary(),
      this.recentEvents(),
      this.approvedDevices(),
    ])
    const today = siteNow()
    return {
      summary,
      events,
      devices,
      offline: devices.filter(({ presence }) => !presence.online).length,
      onlineSeconds: this.online.windowMs / 1000,
      bars: chartBars(summary.hours),
      chart: hourlyChart,
      today: today.toISODate(),
      dayEndsAt: today.endOf('day').toMillis(),
    }
  }

  /** The latest events received, newest first. */
  recentEvents() {
    return AccessEvent.query()
      .preload('device')
      .preload('person')
      .orderBy('id', 'desc')
      .limit(recentEventsShown)
  }

  /** Every approved device with its online state, by name. */
  async approvedDevices() {
    const devices = await Device.query().where('status', 'approved').orderBy('name', 'asc')
    const states = await this.online.of(devices)
    return devices.map((device) => ({ device, presence: states.get(device.id)! }))
  }

  /**
   * Today's events granted and denied in each hour of the site's clock
   * (SITE_TIME_ZONE), in one query. An hour a clock change skips stays
   * empty.
   */
  async hourly(day = siteNow().startOf('day')): Promise<HourCount[]> {
    const bounds = Array.from({ length: 24 }, (_, hour) => day.set({ hour }))
    bounds.push(day.plus({ days: 1 }).startOf('day'))
    const columns: string[] = []
    const bindings: string[] = []
    for (let hour = 0; hour < 24; hour++) {
      for (const decision of ['granted', 'denied']) {
        columns.push(
          `sum(case when occurred_at >= ? and occurred_at < ? and decision = '${decision}' then 1 else 0 end) as ${decision}_${hour}`
        )
        bindings.push(toSqlDateTime(bounds[hour]), toSqlDateTime(bounds[hour + 1]))
      }
    }
    const [row] = await db
      .from('access_events')
      .where('occurred_at', '>=', toSqlDateTime(bounds[0]))
      .where('occurred_at', '<', toSqlDateTime(bounds[24]))
      .select(db.raw(columns.join(', '), bindings))
    return Array.from({ length: 24 }, (_, hour) => ({
      hour,
      granted: Number(row?.[`granted_${hour}`] ?? 0),
      denied: Number(row?.[`denied_${hour}`] ?? 0),
    }))
  }
}

/** The bars of the hourly chart, as the page draws them. */
export function chartBars(hours: HourCount[]) {
  const { barWidth, gap, plotHeight } = hourlyChart
  const busiest = Math.max(1, ...hours.map((hour) => hour.granted + hour.denied))
  return hours.map(({ hour, granted, denied }) => {
    const total = Math.round(((granted + denied) / busiest) * plotHeight)
    const deniedHeight = Math.round((denied / busiest) * plotHeight)
    return {
      hour,
      granted,
      denied,
      x: hour * (barWidth + gap),
      totalY: plotHeight - total,
      grantedHeight: total - deniedHeight,
      deniedY: plotHeight - deniedHeight,
      deniedHeight,
      from: `${String(hour).padStart(2, '0')}:00`,
      until: `${String(hour + 1).padStart(2, '0')}:00`,
    }
  })
}
