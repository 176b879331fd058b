import vine from '@vinejs/vine'
import { personStatuses } from '#models/person'
import { listFiltersValidator, pageNumber } from '#validators/list_filters'

const username = () =>
  vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\p{L}\p{N}._@-]+$/u)

const displayName = () => vine.string().trim().minLength(1).maxLength(120)

/**
 * NFC card UIDs: hexadecimal (4, 7 or 10 bytes, as readers print them) or
 * decimal, separators removed and letters uppercased.
 */
const cardNumber = () =>
  vine
    .string()
    .trim()
    .regex(/^(?:[0-9A-Fa-f]{2}[\s:-]?){2,16}$|^[0-9]{4,20}$/)
    .transform((value) => value.replace(/[\s:-]/g, '').toUpperCase())

const date = () => vine.date({ formats: ['YYYY-MM-DD'] })

const personFields = {
  displayName: displayName(),
  cardNumber: cardNumber().optional(),
  department: vine.string().trim().maxLength(120).optional(),
  status: vine.enum(personStatuses),
  validFrom: date().optional(),
  validUntil: date().afterOrSameAs('validFrom').optional(),
  notes: vine.string().trim().maxLength(2000).optional(),
  consentGiven: vine.boolean().optional(),
  consentShown: vine.boolean().optional(),
  consentTextVersion: vine
    .string()
    .trim()
    .maxLength(32)
    .optional()
    .requiredIfExists('consentGiven'),
}

/**
 * The new-person form, which also puts the person in access groups and
 * may carry a photo to enrol (a file, or a webcam capture the page's
 * script puts in the same field; `photoSource` says which).
 */
export const createPersonValidator = vine.create({
  username: username(),
  ...personFields,
  accessGroupIds: vine.array(vine.number().positive().withoutDecimals()).maxLength(100).optional(),
  photoSource: vine.enum(['photo', 'webcam'] as const).optional(),
})

export const updatePersonValidator = vine.create({
  ...personFields,
})

export const personSearchValidator = listFiltersValidator({
  q: vine.string().trim().maxLength(120).optional(),
  status: vine.enum(personStatuses).optional(),
  page: pageNumber().optional(),
})
