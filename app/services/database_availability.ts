/**
 * What the database drivers fail with while the database cannot serve:
 * SQLite busy or locked past its timeout, its file unreadable, read-only
 * or the disk full (extended codes such as SQLITE_BUSY_SNAPSHOT included);
 * PostgreSQL shutting down, starting up, out of connections, or the
 * connection lost or refused; no pooled connection free in time.
 */
const sqliteCodes = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_READONLY',
]
const postgresCodes = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
])
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE'])
const unavailableMessages = [
  /^Knex: Timeout acquiring a connection/,
  /^Connection terminated/,
  /^Client has encountered a connection error/,
  /^Client was closed and is not queryable/,
]

/**
 * Whether an error means that the database is unavailable for now (busy,
 * restarting, unreachable), as opposed to a bug or a refused write: the
 * same request may succeed a few seconds later, and its transaction wrote
 * nothing. A refused socket counts too: once Redis outages are told apart
 * (redis_availability.ts), the database is the other service a request
 * reaches over the network.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (sqliteCodes.some((base) => code === base || code.startsWith(`${base}_`))) return true
    if (postgresCodes.has(code) || socketCodes.has(code)) return true
  }
  if (error.name === 'KnexTimeoutError') return true
  if (unavailableMessages.some((pattern) => pattern.test(error.message))) return true
  return error.cause !== undefined && error.cause !== error && isDatabaseUnavailable(error.cause)
}
