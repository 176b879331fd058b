import { randomBytes } from 'node:crypto'
import {
  encodeSerialHeader,
  sha256Hex,
  signature,
  signatureHeaders,
} from '#services/terminal/request_signing'

export type BodyEncoding = 'form' | 'multipart' | 'json'
export type FacesApiFields = Record<string, string | number | undefined>
export type FacesApiFile = { data: Uint8Array; filename?: string; contentType?: string }

/** Every answer of /faces/api: the endpoint's flag, a result code and a message. */
export type FacesApiAnswer = { flag: string; code: number; message: string } & Record<
  string,
  unknown
>

export type DeviceIdentity = {
  deviceName: string
  serialNumber: string
  /** The device credential shown when the device was approved; absent for a legacy device. */
  secret?: string
}

/**
 * A request body in one of the encodings the protocol accepts, as bytes,
 * so that its digest can be signed before it is sent. Undefined fields
 * are left out.
 */
export function encodeBody(
  fields: FacesApiFields,
  encoding: BodyEncoding,
  files: Record<string, FacesApiFile> = {}
): { body: Buffer; contentType: string } {
  const present = Object.entries(fields).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined
  )
  if (encoding === 'json') {
    return {
      body: Buffer.from(JSON.stringify(Object.fromEntries(present))),
      contentType: 'application/json',
    }
  }
  if (encoding === 'form') {
    const form = new URLSearchParams(
      present.map(([name, value]): [string, string] => [name, String(value)])
    )
    return { body: Buffer.from(form.toString()), contentType: 'application/x-www-form-urlencoded' }
  }
  const boundary = `----faces-api-${randomBytes(12).toString('hex')}`
  const parts: Buffer[] = []
  for (const [name, value] of present) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
      )
    )
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename ?? `${name}.jpg`}"\r\n` +
          `Content-Type: ${file.contentType ?? 'image/jpeg'}\r\n\r\n`
      ),
      Buffer.from(file.data),
      Buffer.from('\r\n')
    )
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

/**
 * The headers that prove a call comes from the device holding `secret`
 * (see request_signing.ts for the scheme).
 */
export function signCall(
  device: { serialNumber: string; secret: string },
  call: { method: string; path: string; body: Uint8Array },
  options: { timestamp?: number; nonce?: string } = {}
): Record<string, string> {
  const parts = {
    method: call.method,
    path: call.path,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    nonce: options.nonce ?? randomBytes(16).toString('hex'),
    serialNumber: device.serialNumber,
    contentSha256: sha256Hex(call.body),
  }
  return {
    [signatureHeaders.serial]: encodeSerialHeader(parts.serialNumber),
    [signatureHeaders.timestamp]: String(parts.timestamp),
    [signatureHeaders.nonce]: parts.nonce,
    [signatureHeaders.contentSha256]: parts.contentSha256,
    [signatureHeaders.signature]: signature(device.secret, parts),
  }
}

/** The fields by which each endpoint names the calling device, as the original protocol has them. */
const identityFields: Record<string, (device: DeviceIdentity) => FacesApiFields> = {
  token: (device) => ({ deviceName: device.deviceName, sn: device.serialNumber }),
  getDbs: (device) => ({ deviceName: device.deviceName, deviceSN: device.serialNumber }),
  regFace: (device) => ({ deviceName: device.deviceName, deviceSN: device.serialNumber }),
  clinetFeedback: (device) => ({ deviceName: device.deviceName, deviceSN: device.serialNumber }),
  clinetWebResult: (device) => ({ deviceName: device.deviceName, deviceSN: device.serialNumber }),
}

/**
 * A terminal's side of /faces/api: asks for a token before each call,
 * names the device the way each endpoint expects, and signs every call
 * when it holds a credential (a legacy device sends name and serial
 * number only).
 */
export class FacesApiClient {
  readonly #fetch: typeof fetch

  constructor(
    private baseUrl: string,
    private device: DeviceIdentity,
    options: { fetch?: typeof fetch } = {}
  ) {
    this.#fetch = options.fetch ?? fetch
  }

  /** One call, without a token unless `fields` has one. */
  async call(
    endpoint: string,
    fields: FacesApiFields = {},
    options: { encoding?: BodyEncoding; files?: Record<string, FacesApiFile> } = {}
  ): Promise<FacesApiAnswer> {
    const path = `/faces/api/${endpoint}`
    const encoding = options.encoding ?? (options.files ? 'multipart' : 'form')
    const all = { ...identityFields[endpoint]?.(this.device), ...fields }
    const { body, contentType } = encodeBody(all, encoding, options.files)
    const headers: Record<string, string> = { 'content-type': contentType }
    if (this.device.secret) {
      const proof = signCall(
        { serialNumber: this.device.serialNumber, secret: this.device.secret },
        { method: 'POST', path, body }
      )
      Object.assign(headers, proof)
    }
    const response = await this.#fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers,
      body,
    })
    return (await response.json()) as FacesApiAnswer
  }

  async token(): Promise<string> {
    const answer = await this.call('token')
    if (answer.code !== 0) throw new FacesApiError(answer)
    return answer.token as string
  }

  /** A fresh token, then the call with it: what the protocol asks of every call. */
  async callWithToken(
    endpoint: string,
    fields: FacesApiFields = {},
    options: { encoding?: BodyEncoding; files?: Record<string, FacesApiFile> } = {}
  ) {
    return this.call(endpoint, { ...fields, token: await this.token() }, options)
  }

  getDbs(since?: number) {
    return this.callWithToken('getDbs', { since })
  }

  faceIdentify(image: Uint8Array, cardNumber?: string) {
    return this.callWithToken('faceIdentify', { cardNumber }, { files: { image: { data: image } } })
  }

  clinetFeedback(report: { faceName: string; username?: string; time?: number; score?: number }) {
    return this.callWithToken('clinetFeedback', report)
  }

  regFace(person: { username: string; faceName: string; photo: Uint8Array }) {
    return this.callWithToken('regFace', {
      username: person.username,
      faceName: person.faceName,
      picBase64: Buffer.from(person.photo).toString('base64'),
    })
  }
}

export class FacesApiError extends Error {
  constructor(readonly answer: FacesApiAnswer) {
    super(`${answer.flag} answered ${answer.code}: ${answer.message}`)
  }
}
