import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/**
 * A time in the form the current database connection stores timestamps,
 * for hand-written queries (better-sqlite3 cannot bind Date objects). On
 * SQLite the form carries no zone and models write the server's local
 * time, so a time in another zone (the site's) is moved to it first.
 */
export function toSqlDateTime(value: DateTime | Date = DateTime.now()) {
  const time = value instanceof Date ? DateTime.fromJSDate(value) : value.toLocal()
  return time.toFormat(db.connection().dialect.dateTimeFormat)
}
