import vine from '@vinejs/vine'
import { deviceModes, devicePermissions, deviceStatuses, requiredFactors } from '#models/device'
import { listFiltersValidator, pageNumber } from '#validators/list_filters'

/**
 * The device page's form. Its access checkboxes send nothing when
 * unchecked, so a missing `permissions` means none and a missing
 * `legacyMode` means off.
 */
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
  /** Percent, as the form asks for it. */
  identifyTargetFpir: vine.number().min(0.001).max(50).optional(),
  /** The consent text version the terminal shows before it enrols someone. */
  enrolmentConsentVersion: vine.string().trim().maxLength(32).optional(),
  permissions: vine.array(vine.enum(devicePermissions)).distinct().optional(),
  legacyMode: vine.boolean().optional(),
  pinnedAddress: vine.string().trim().ipAddress().optional(),
})

export const deviceStatusValidator = vine.create({
  status: vine.enum(['approved', 'blocked'] as const),
})

export const deviceSearchValidator = listFiltersValidator({
  q: vine.string().trim().maxLength(64).optional(),
  status: vine.enum(deviceStatuses).optional(),
  page: pageNumber().optional(),
})
