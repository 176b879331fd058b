/**
 * When `error` is a unique-constraint violation (SQLite or PostgreSQL),
 * the message that names the column; otherwise null. Lets services turn a
 * write that lost a race into a "duplicate" value instead of a 500.
 */
export function uniqueViolation(error: unknown): string | null {
  const code = (error as { code?: string } | null)?.code
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== '23505') return null
  const { message, detail } = error as { message?: string; detail?: string }
  return `${message ?? ''} ${detail ?? ''}`
}
