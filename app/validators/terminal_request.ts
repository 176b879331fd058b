import { readFile } from 'node:fs/promises'
import type { HttpRequest } from '@adonisjs/core/http'
import { MultipartFile } from '@adonisjs/core/bodyparser'
import { errors as vineErrors, type VineValidator } from '@vinejs/vine'
import terminalConfig from '#config/terminal'
import {
  endpointForPath,
  TerminalException,
  type TerminalEndpoint,
  type TerminalFailure,
} from '#services/terminal/protocol'
import { requestBodyDigest } from '#services/terminal/request_digest'
import {
  decodeSerialHeader,
  noncePattern,
  signatureHeaders,
} from '#services/terminal/request_signing'

type AnyValidator = VineValidator<any, any>
type Validated<Validator extends AnyValidator> = Awaited<ReturnType<Validator['validate']>>

const fail = (failure: TerminalFailure): never => {
  throw new TerminalException(failure)
}

/**
 * The fields of a terminal request, from a form, multipart or JSON body
 * (never the query string: the protocol posts its parameters). No body at
 * all is 9002, missing fields 9005, fields of the wrong type or shape 2.
 * File parts are left to `readTerminalImage`.
 */
export async function readTerminalFields<Validator extends AnyValidator>(
  request: HttpRequest,
  validator: Validator
): Promise<Validated<Validator>> {
  const body: unknown = request.body()
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail({ type: 'invalid_parameter', message: 'the body must be a set of named fields' })
  }
  const fields = Object.fromEntries(
    Object.entries(body).filter(([, value]) => !(value instanceof MultipartFile))
  )
  if (Object.keys(body).length === 0) {
    return fail({ type: 'missing_body', message: 'send the fields as a form, multipart or JSON' })
  }
  try {
    return await validator.validate(fields)
  } catch (error) {
    if (!(error instanceof vineErrors.E_VALIDATION_ERROR)) throw error
    return fail(validationFailure(error.messages as { field: string; rule: string }[]))
  }
}

function validationFailure(messages: { field: string; rule: string }[]): TerminalFailure {
  const missing = messages.filter(({ rule }) => rule === 'required').map(({ field }) => field)
  if (missing.length > 0)
    return { type: 'missing_fields', message: `missing ${missing.join(', ')}` }
  const fields = [...new Set(messages.map(({ field }) => field))]
  return { type: 'invalid_parameter', message: fields.map(describeInvalid).join('; ') }
}

const invalidFieldHints: Record<string, string> = {
  deviceName: 'letters, digits, spaces, ".", "_" and "-", at most 64',
  sn: 'letters, digits, ".", "_", ":", "/" and "-", at most 64',
  deviceSN: 'letters, digits, ".", "_", ":", "/" and "-", at most 64',
  token: '40 hexadecimal characters from /faces/api/token',
  username: 'letters, digits, ".", "_", "@" and "-", at most 64',
  faceName: 'text of 1 to 120 characters',
  since: 'a whole number, the revision of an earlier getDbs answer',
  revision: 'a whole number, the revision of the face database the device holds (0 for none)',
  time: 'unix seconds',
  score: 'a number from 0 to 1',
  left: 'a whole number of pixels',
  top: 'a whole number of pixels',
  right: 'a whole number of pixels',
  bottom: 'a whole number of pixels',
  pending: 'a feature blob (base64) from faceFeature or getDbs',
  original: 'a feature blob (base64) from faceFeature or getDbs',
  cardNumber: 'the card UID in hexadecimal, or its decimal number',
  pairingKey: '32 to 128 letters, digits, "-" or "_": the terminal\'s own random key',
}

function describeInvalid(field: string) {
  const hint = invalidFieldHints[field]
  return hint ? `${field} must be ${hint}` : `${field} has the wrong type`
}

/**
 * The image a request carries, as bytes: a multipart file part, or base64
 * text in a form or JSON field. The size is checked before anything is
 * decoded (69642); an upload that cannot be read is 9113. Null when the
 * request has none.
 */
export async function readTerminalImage(request: HttpRequest, field: string) {
  const file = request.file(field)
  if (file) return readUploadedFile(field, file)
  const value: unknown = request.body()[field]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') {
    return fail({ type: 'invalid_parameter', message: `${field} must be a file or base64 text` })
  }
  return decodeBase64Image(field, value)
}

/** The image an endpoint cannot do without: missing is 9005, like a missing field. */
export async function readRequiredTerminalImage(request: HttpRequest, field: string) {
  const bytes = await readTerminalImage(request, field)
  return bytes ?? fail({ type: 'missing_fields', message: `missing ${field}` })
}

/**
 * Stands for a file part that was not stored because no known device sent
 * it (see the multipart middleware): the device gate refuses such a call
 * before any picture is looked at.
 */
const withheldImage = new Uint8Array(0)

async function readUploadedFile(field: string, file: MultipartFile) {
  const maxBytes = terminalConfig.images.maxBytes
  if (file.size > maxBytes) {
    return fail({ type: 'image_too_large', message: `${field} is larger than ${maxBytes} bytes` })
  }
  if (file.meta.withheld === true) return withheldImage
  if (!file.tmpPath || file.errors.some((error) => error.type === 'fatal')) {
    return fail({ type: 'unreadable_file', message: `the ${field} upload was cut short` })
  }
  try {
    return await readFile(file.tmpPath)
  } catch {
    return fail({ type: 'unreadable_file', message: `the ${field} upload could not be read` })
  }
}

/**
 * Base64 as terminals send it: optionally a data URL, possibly wrapped in
 * lines, possibly URL-safe, and with "+" turned into spaces by a client
 * that did not escape it in a form (a space is never valid base64, so it
 * can only have been a "+").
 */
export function decodeBase64Image(field: string, text: string) {
  const maxBytes = terminalConfig.images.maxBytes
  const compact = text
    .replace(/^data:[\w/+.-]*;base64,/, '')
    .replace(/[\r\n\t]/g, '')
    .replace(/ /g, '+')
    .replace(/-/g, '+')
    .replace(/_/g, '/')
  const unpadded = compact.replace(/=+$/, '')
  if (unpadded.length === 0) return fail({ type: 'missing_fields', message: `missing ${field}` })
  if (!/^[A-Za-z0-9+/]+$/.test(unpadded) || unpadded.length % 4 === 1) {
    return fail({ type: 'invalid_parameter', message: `${field} is not base64` })
  }
  if (Math.floor((unpadded.length * 3) / 4) > maxBytes) {
    return fail({ type: 'image_too_large', message: `${field} is larger than ${maxBytes} bytes` })
  }
  return Buffer.from(unpadded, 'base64')
}

/** The proof a signed call carries in its headers, with the digest of the body received. */
export type SignedProof = {
  serialNumber: string
  timestamp: number
  nonce: string
  contentSha256: string
  signature: string
  receivedSha256: string | null
}

/** What the device gate needs to know about a call besides its fields. */
export type TerminalCall = {
  endpoint: TerminalEndpoint
  method: string
  path: string
  address: string
  proof: SignedProof | null
}

const hex64 = /^[0-9a-fA-F]{64}$/

/**
 * The call's endpoint, address and signature headers. A call is signed
 * when it has X-Device-Signature; the other signature headers must then
 * all be there and well-formed (2 otherwise, naming the header).
 */
export function readTerminalCall(request: HttpRequest): TerminalCall {
  const path = request.url()
  const endpoint = endpointForPath(path)
  if (!endpoint) throw new Error(`${path} is no terminal endpoint`)
  const call = {
    endpoint,
    method: request.method(),
    path,
    address: request.ip(),
  }
  const header = (name: string) => {
    const value = request.header(name)
    return typeof value === 'string' ? value.trim() : undefined
  }
  const signatureValue = header(signatureHeaders.signature)
  if (signatureValue === undefined) return { ...call, proof: null }

  const invalid = (name: string, hint: string) =>
    fail({ type: 'invalid_parameter', message: `the ${headerLabel(name)} header must be ${hint}` })
  const serialText = header(signatureHeaders.serial)
  const serialNumber = serialText === undefined ? null : decodeSerialHeader(serialText)
  if (!serialNumber || serialNumber.length > 64) {
    return invalid(signatureHeaders.serial, "the device's serial number")
  }
  const timestamp = header(signatureHeaders.timestamp) ?? ''
  if (!/^[0-9]{1,12}$/.test(timestamp)) {
    return invalid(signatureHeaders.timestamp, 'the time of the call in unix seconds')
  }
  const nonce = header(signatureHeaders.nonce) ?? ''
  if (!noncePattern.test(nonce)) {
    return invalid(
      signatureHeaders.nonce,
      '16 to 64 letters, digits, "-" or "_", new for every call'
    )
  }
  const contentSha256 = header(signatureHeaders.contentSha256) ?? ''
  if (!hex64.test(contentSha256)) {
    return invalid(signatureHeaders.contentSha256, 'the SHA-256 of the body in hexadecimal')
  }
  if (!hex64.test(signatureValue)) {
    return invalid(signatureHeaders.signature, 'an HMAC-SHA256 in hexadecimal')
  }
  return {
    ...call,
    proof: {
      serialNumber,
      timestamp: Number(timestamp),
      nonce,
      contentSha256: contentSha256.toLowerCase(),
      signature: signatureValue.toLowerCase(),
      receivedSha256: requestBodyDigest(request.request),
    },
  }
}

function headerLabel(name: string) {
  return name
    .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase())
    .replace('Sha256', 'SHA256')
}
