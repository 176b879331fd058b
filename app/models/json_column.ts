import { column } from '@adonisjs/lucid/orm'

/**
 * A JSON value kept in a text column, so SQLite and PostgreSQL store it the
 * same way.
 */
export const jsonColumn = () =>
  column({
    prepare: (value: unknown) =>
      value === null || value === undefined ? null : JSON.stringify(value),
    consume: (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : (value ?? null)),
  })
