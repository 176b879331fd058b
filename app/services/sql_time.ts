import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/**
 * A time in the form the current database connection stores timestamps,
 * for hand-written queries (better-sqlite3 cannot bind Date objects).
 */
export function toSqlDateTime(value: DateTime | Date = DateTime.now()) {
  const time = value instanceof Date ? DateTime.fromJSDate(value) : value
  return time.toFormat(db.connection().dialect.dateTimeFormat)
}
