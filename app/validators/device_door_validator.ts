import vine from '@vinejs/vine'

/**
 * The Door setting on a device's page: the gate plugin instance that
 * opens the door at the device (empty: none) and for how many seconds.
 */
export const deviceDoorValidator = vine.create({
  gate: vine
    .string()
    .trim()
    .maxLength(64)
    .regex(/^[a-z0-9_-]+$/)
    .optional(),
  openSeconds: vine.number().withoutDecimals().min(1).max(60),
})
