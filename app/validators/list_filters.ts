import vine, { VineValidator } from '@vinejs/vine'
import type { SchemaTypes } from '@vinejs/vine/types'

/**
 * A validator for the query string of a list page's search form. The form
 * sends every field it has, so an untouched box or an "Any …" choice
 * arrives as an empty value: that means "any" and is left out of the
 * result, never refused. A value that is there is checked as usual.
 */
export function listFiltersValidator<Properties extends Record<string, SchemaTypes>>(
  properties: Properties
) {
  return new VineValidator<
    ReturnType<typeof vine.object<Properties>>,
    Record<string, any> | undefined
  >(vine.object(properties), {
    convertEmptyStringsToNull: true,
    messagesProvider: vine.messagesProvider,
    errorReporter: vine.errorReporter,
  })
}

/** The page of a paginated list. */
export const pageNumber = () => vine.number().positive().withoutDecimals().max(100000)
