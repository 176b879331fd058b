/**
 * Case-insensitive "contains" search for the list pages, the same on SQLite
 * and PostgreSQL. What people type is matched literally: a `%` or `_` in a
 * search box is no wildcard.
 */

const escapeLike = (value: string) => value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)

/** A LIKE pattern for text anywhere in a value (with `escape '\'`). */
export const containsPattern = (text: string) => `%${escapeLike(text)}%`

/** A LIKE pattern for values starting with `text` (with `escape '\'`). */
export const prefixPattern = (text: string) => `${escapeLike(text)}%`

/** `lower(column) like ? escape '\'`, for a pattern made above. */
export const likeClause = (column: string) => `lower(${column}) like ? escape '\\'`

interface RawConditions {
  orWhereRaw(sql: string, bindings: string[]): unknown
}

/**
 * Narrows `query` to rows where any of `columns` contains `text`.
 */
export function whereAnyContains<Query extends { where(group: (q: any) => void): unknown }>(
  query: Query,
  columns: readonly string[],
  text: string
): Query {
  const pattern = containsPattern(text)
  query.where((group: RawConditions) => {
    for (const column of columns) group.orWhereRaw(likeClause(column), [pattern])
  })
  return query
}
