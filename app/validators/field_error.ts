import { errors } from '@vinejs/vine'

/**
 * A validation error on one field, for failures only the database can see
 * (a duplicate username). Thrown from a controller it is rendered like any
 * other validation error: back to the form, with what was typed, or a 422.
 */
export function fieldError(field: string, message: string, rule = 'database') {
  return new errors.E_VALIDATION_ERROR([{ field, message, rule }])
}
