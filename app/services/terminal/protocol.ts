import { Exception } from '@adonisjs/core/exceptions'
import type { DevicePermission } from '#models/device'
import { resultCodes, type ResultCode } from '#services/terminal/result_codes'

export const terminalApiPrefix = '/faces/api'

/**
 * Every endpoint of the terminal protocol with the `flag` its answers carry
 * and the permission a device needs to call it. The keys are the paths
 * under /faces/api and the route names under `terminal.`; the flags keep
 * the original documentation's spelling.
 */
export const terminalEndpoints = {
  token: { flag: 'token', permission: null },
  pair: { flag: 'pair', permission: null },
  faceDetect: { flag: 'facedetect', permission: 'recognition' },
  faceAge: { flag: 'faceage', permission: 'recognition' },
  faceGender: { flag: 'facegender', permission: 'recognition' },
  faceFeature: { flag: 'facefeature', permission: 'recognition' },
  faceRecognize: { flag: 'facerecognize', permission: 'recognition' },
  faceIdentify: { flag: 'faceidentify', permission: 'recognition' },
  getDbs: { flag: 'getDbs', permission: 'database' },
  syncEvents: { flag: 'syncEvents', permission: 'database' },
  regFace: { flag: 'regFace', permission: 'enrolment' },
  clinetFeedback: { flag: 'clinetfeedback', permission: 'feedback' },
  clinetWebResult: { flag: 'clinetwebresult', permission: 'feedback' },
  heartbeat: { flag: 'heartbeat', permission: null },
  pictures: { flag: 'picture', permission: null },
} as const satisfies Record<string, { flag: string; permission: DevicePermission | null }>

export type TerminalEndpoint = keyof typeof terminalEndpoints

/** The flag of answers to a path that names no endpoint. */
const unknownEndpointFlag = 'unknown'

export function isTerminalApiPath(url: string) {
  return url === terminalApiPrefix || url.startsWith(`${terminalApiPrefix}/`)
}

/**
 * The endpoint a request path names, also for paths the router did not
 * match (a GET on a POST endpoint) and for requests that failed before
 * routing (a body the body parser refused).
 */
export function endpointForPath(url: string): TerminalEndpoint | null {
  if (!isTerminalApiPath(url)) return null
  const name = url.slice(terminalApiPrefix.length + 1).split(/[/?]/)[0]
  return Object.hasOwn(terminalEndpoints, name) ? (name as TerminalEndpoint) : null
}

export function flagFor(endpoint: TerminalEndpoint | null) {
  return endpoint ? terminalEndpoints[endpoint].flag : unknownEndpointFlag
}

/**
 * Expected failures, as services and request readers return them. `message`
 * is the detail a person reading the answer needs; never a stack trace.
 */
export type TerminalFailure =
  | { type: 'missing_body'; message?: string }
  | { type: 'missing_fields'; message: string }
  | { type: 'invalid_parameter'; message: string }
  | { type: 'device_mismatch'; message: string }
  | { type: 'device_not_approved'; message: string }
  | { type: 'permission_denied'; message: string }
  | { type: 'token_expired'; message: string }
  | { type: 'signature_expired'; message: string }
  | { type: 'held_for_review'; message: string }
  | { type: 'enrolment_refused'; message: string }
  | { type: 'pairing_refused'; message: string }
  | { type: 'unusable_face'; message: string }
  | { type: 'rate_limited'; message: string; retryAfterSeconds: number }
  | { type: 'unreadable_file'; message: string }
  | { type: 'not_image'; message: string }
  | { type: 'image_too_large'; message: string }
  | { type: 'no_face'; message?: string }
  | { type: 'feature_model_mismatch'; message: string }
  | { type: 'engine_unavailable'; message: string }
  | { type: 'unknown_endpoint'; message: string }
  | { type: 'not_found'; message: string }
  | { type: 'link_expired'; message: string }
  | { type: 'method_not_allowed'; message: string; allow: 'GET' | 'POST' }
  | { type: 'redis_unavailable'; message: string; retryAfterSeconds: number }
  | { type: 'database_unavailable'; message: string; retryAfterSeconds: number }
  | { type: 'internal'; message: string }

/**
 * The one place failures become protocol codes. Answers are HTTP 200, as
 * terminals read the code; the HTTP status says more only where the HTTP
 * layer itself is concerned.
 */
const failureCodes = {
  missing_body: { code: 9002, status: 200 },
  missing_fields: { code: 9005, status: 200 },
  invalid_parameter: { code: 2, status: 200 },
  device_mismatch: { code: 9004, status: 200 },
  device_not_approved: { code: 9001, status: 200 },
  permission_denied: { code: 9001, status: 200 },
  token_expired: { code: 7, status: 200 },
  signature_expired: { code: 7, status: 200 },
  held_for_review: { code: 5, status: 200 },
  enrolment_refused: { code: 5, status: 200 },
  pairing_refused: { code: 5, status: 200 },
  unusable_face: { code: 73731, status: 200 },
  rate_limited: { code: 8, status: 429 },
  unreadable_file: { code: 9113, status: 200 },
  not_image: { code: 69640, status: 200 },
  image_too_large: { code: 69642, status: 200 },
  no_face: { code: 9006, status: 200 },
  feature_model_mismatch: { code: 73733, status: 200 },
  engine_unavailable: { code: 3, status: 200 },
  unknown_endpoint: { code: 12, status: 404 },
  not_found: { code: 12, status: 404 },
  link_expired: { code: 7, status: 403 },
  method_not_allowed: { code: 9002, status: 405 },
  redis_unavailable: { code: 9007, status: 503 },
  database_unavailable: { code: 9007, status: 503 },
  internal: { code: 9007, status: 500 },
} as const satisfies Record<TerminalFailure['type'], { code: ResultCode; status: number }>

export const failureTypes = Object.keys(failureCodes) as TerminalFailure['type'][]

export function codeFor(type: TerminalFailure['type']): ResultCode {
  return failureCodes[type].code
}

export type TerminalResult<Data extends Record<string, unknown> = Record<string, unknown>> =
  { ok: true; data: Data; message?: string } | { ok: false; error: TerminalFailure }

export function isTerminalResult(value: unknown): value is TerminalResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ok?: unknown }).ok === 'boolean' &&
    ('data' in value || 'error' in value)
  )
}

export const failed = (error: TerminalFailure) => ({ ok: false, error }) as const

export type TerminalAnswer = {
  status: number
  headers: Record<string, string>
  body: { flag: string; code: ResultCode; message: string } & Record<string, unknown>
}

/**
 * A result as the terminal receives it: `flag`, numeric `code`, a readable
 * `message`, then the endpoint's fields.
 */
export function terminalAnswer(flag: string, result: TerminalResult): TerminalAnswer {
  if (result.ok) {
    return {
      status: 200,
      headers: {},
      body: { flag, code: 0, message: result.message ?? resultCodes[0], ...result.data },
    }
  }
  const { code, status } = failureCodes[result.error.type]
  const detail = result.error.message
  const headers: Record<string, string> = {}
  if ('retryAfterSeconds' in result.error) {
    headers['Retry-After'] = String(result.error.retryAfterSeconds)
  }
  if (result.error.type === 'method_not_allowed') headers['Allow'] = result.error.allow
  return {
    status,
    headers,
    body: { flag, code, message: detail ? `${resultCodes[code]}: ${detail}` : resultCodes[code] },
  }
}

/**
 * A failure found while reading a request, before any service runs
 * (missing body, missing fields, wrong types). The terminal API middleware
 * answers it like a returned failure.
 */
export class TerminalException extends Exception {
  constructor(readonly failure: TerminalFailure) {
    super(failure.message ?? failure.type, { status: 200, code: 'E_TERMINAL_REQUEST' })
  }
}
