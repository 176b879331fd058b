import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { toSqlDateTime } from '#services/sql_time'

/**
 * The numbers on the dashboard: people, devices by status, today's events.
 */
export class DashboardService {
  async summary() {
    const count = async (table: string, where?: Record<string, unknown>) => {
      const query = db.from(table).count('* as total')
      if (where) query.where(where)
      const [row] = await query
      return Number(row.total)
    }
    const startOfDay = toSqlDateTime(DateTime.now().startOf('day'))
    const [eventsToday] = await db
      .from('access_events')
      .where('occurred_at', '>=', startOfDay)
      .select(
        db.raw('count(*) as total'),
        db.raw(`sum(case when decision = 'denied' then 1 else 0 end) as denied`)
      )
    return {
      people: await count('people'),
      activePeople: await count('people', { status: 'active' }),
      faces: await count('faces'),
      devicesApproved: await count('devices', { status: 'approved' }),
      devicesPending: await count('devices', { status: 'pending' }),
      devicesBlocked: await count('devices', { status: 'blocked' }),
      eventsToday: Number(eventsToday.total ?? 0),
      deniedToday: Number(eventsToday.denied ?? 0),
    }
  }
}
