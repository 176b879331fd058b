import vine from '@vinejs/vine'

const date = () => vine.date({ formats: ['YYYY-MM-DD'] })

export const auditLogFilterValidator = vine.create({
  action: vine.string().trim().maxLength(64).optional(),
  subjectType: vine.string().trim().maxLength(32).optional(),
  actor: vine.string().trim().maxLength(254).optional(),
  from: date().optional(),
  until: date().afterOrSameAs('from').optional(),
  page: vine.number().positive().withoutDecimals().max(100000).optional(),
})
