import vine from '@vinejs/vine'
import { accessDecisions } from '#models/access_event'

export const eventFilterValidator = vine.create({
  decision: vine.enum(accessDecisions).optional(),
  device: vine.string().trim().maxLength(64).optional(),
  person: vine.string().trim().maxLength(120).optional(),
  page: vine.number().positive().withoutDecimals().max(100000).optional(),
})
