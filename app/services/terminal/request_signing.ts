import { createHash, createHmac } from 'node:crypto'

/**
 * How a terminal signs a call to /faces/api with its device credential.
 * The terminal client and the server's verifier both build the string to
 * sign here, so the two cannot drift apart:
 *
 *   FA1-HMAC-SHA256 \n METHOD \n /path \n unix-seconds \n nonce \n serial \n sha256(body)
 *
 * The key is the credential as shown to the operator (its UTF-8 bytes);
 * the signature is the HMAC-SHA256 in lowercase hex. The body digest is
 * of the bytes sent, whatever their encoding (form, multipart or JSON).
 */
export const signatureScheme = 'FA1-HMAC-SHA256'

/** The headers of a signed call, lowercase as Node presents them. */
export const signatureHeaders = {
  serial: 'x-device-serial',
  timestamp: 'x-device-timestamp',
  nonce: 'x-device-nonce',
  contentSha256: 'x-device-content-sha256',
  signature: 'x-device-signature',
} as const

/** 16 to 64 characters of letters, digits, "-" and "_": unique per call. */
export const noncePattern = /^[A-Za-z0-9_-]{16,64}$/

export type SignedParts = {
  method: string
  path: string
  timestamp: number
  nonce: string
  serialNumber: string
  contentSha256: string
}

export function sha256Hex(body: Uint8Array | string) {
  return createHash('sha256').update(body).digest('hex')
}

export function stringToSign(parts: SignedParts) {
  return [
    signatureScheme,
    parts.method.toUpperCase(),
    parts.path,
    String(parts.timestamp),
    parts.nonce,
    parts.serialNumber,
    parts.contentSha256,
  ].join('\n')
}

export function signature(secret: string, parts: SignedParts) {
  return createHmac('sha256', secret).update(stringToSign(parts)).digest('hex')
}

/**
 * The serial number as a header carries it: percent-encoded, so that a
 * serial with characters outside ASCII survives HTTP.
 */
export function encodeSerialHeader(serialNumber: string) {
  return encodeURIComponent(serialNumber)
}

export function decodeSerialHeader(value: string) {
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}
