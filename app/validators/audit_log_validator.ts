import vine from '@vinejs/vine'
import { listFiltersValidator, pageNumber } from '#validators/list_filters'

const date = () => vine.date({ formats: ['YYYY-MM-DD'] })

export const auditLogFilterValidator = listFiltersValidator({
  action: vine.string().trim().maxLength(64).optional(),
  subjectType: vine.string().trim().maxLength(32).optional(),
  actor: vine.string().trim().maxLength(254).optional(),
  from: date().optional(),
  until: date().afterOrSameAs('from').optional(),
  page: pageNumber().optional(),
})
