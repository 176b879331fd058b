import vine from '@vinejs/vine'

/** A plugin instance by its id in the plugins file (empty: none). */
const instanceId = () =>
  vine
    .string()
    .trim()
    .maxLength(64)
    .regex(/^[a-z0-9_-]+$/)
    .optional()

/**
 * The Door setting on a device's page: the gate plugin instance that
 * opens the door at the device (empty: none) and for how many seconds,
 * the reader whose cards count there and the light lit while it is open.
 */
export const deviceDoorValidator = vine.create({
  gate: instanceId(),
  openSeconds: vine.number().withoutDecimals().min(1).max(60),
  reader: instanceId(),
  light: instanceId(),
})
