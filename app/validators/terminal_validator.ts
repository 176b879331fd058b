import vine from '@vinejs/vine'

/**
 * Field rules of the terminal protocol (/faces/api). Field names are the
 * original documentation's; a missing field is code 9005, a field of the
 * wrong type or shape code 2.
 */

/** The same characters the device pages accept, so a registered name stays editable. */
const deviceName = () =>
  vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\p{L}\p{N} ._-]+$/u)

const serialNumber = () =>
  vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\p{L}\p{N}._:/-]+$/u)

/** 40 hexadecimal characters, as /faces/api/token issues them. */
const token = () =>
  vine
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{40}$/)
    .transform((value) => value.toLowerCase())

/** The people pages' username rule: usernames are shared with them. */
const username = () =>
  vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\p{L}\p{N}._@-]+$/u)

const faceName = () => vine.string().trim().minLength(1).maxLength(120)

export const tokenRequestValidator = vine.create({
  deviceName: deviceName(),
  sn: serialNumber(),
})

export const getDbsValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: token(),
  since: vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
})

export const syncEventsValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: token(),
  revision: vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER),
})

export const regFaceValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: token().optional(),
  username: username(),
  faceName: faceName(),
  picBase64: vine.string(),
  faceData: vine.string().optional(),
})

export const feedbackValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: token().optional(),
  faceName: faceName(),
  username: username().optional(),
  time: vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  score: vine.number().min(0).max(1).optional(),
  /** The terminal's own id for this report: a retried report with it is recorded once. */
  eventId: vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(64)
    .regex(/^[\w.:-]+$/)
    .optional(),
  /** The terminal refused the passage itself: `spoof` when the face did not prove it was live. */
  refusal: vine.enum(['spoof']).optional(),
})

export const webResultValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: token().optional(),
})

/**
 * A face box edge in pixels. A face cut off by the frame has edges outside
 * it, so negative values and values past the image are allowed.
 */
const boxEdge = () => vine.number().withoutDecimals().range([-100_000, 100_000]).optional()

/** A feature blob in base64; its content is checked when it is compared (code 2 or 73733). */
const featureBlob = () => vine.string().maxLength(65_536)

/** The people pages' card rule, so that a card read at a terminal matches the stored number. */
const cardNumber = () =>
  vine
    .string()
    .trim()
    .regex(/^(?:[0-9A-Fa-f]{2}[\s:-]?){2,16}$|^[0-9]{4,20}$/)
    .transform((value) => value.replace(/[\s:-]/g, '').toUpperCase())

export const faceDetectValidator = vine.create({
  token: token(),
})

export const faceBoxValidator = vine.create({
  token: token(),
  left: boxEdge(),
  top: boxEdge(),
  right: boxEdge(),
  bottom: boxEdge(),
})

export const faceRecognizeValidator = vine.create({
  token: token(),
  pending: featureBlob(),
  original: featureBlob(),
})

export const faceIdentifyValidator = vine.create({
  token: token(),
  cardNumber: cardNumber().optional(),
})
