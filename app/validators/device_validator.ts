import vine from '@vinejs/vine'
import { deviceModes, deviceStatuses, requiredFactors } from '#models/device'

export const updateDeviceValidator = vine.create({
  name: vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\p{L}\p{N} ._-]+$/u),
  mode: vine.enum(deviceModes),
  requiredFactors: vine.enum(requiredFactors),
  site: vine.string().trim().maxLength(120).optional(),
  location: vine.string().trim().maxLength(120).optional(),
})

export const deviceStatusValidator = vine.create({
  status: vine.enum(['approved', 'blocked'] as const),
})

export const deviceSearchValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  status: vine.enum(deviceStatuses).optional(),
  page: vine.number().positive().withoutDecimals().max(100000).optional(),
})
