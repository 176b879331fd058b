import { randomBytes } from 'node:crypto'
import { encodeBody, type FacesApiAnswer } from '#terminal-client/faces_api_client'

/** Why pairing ended without a credential. */
export type PairingFailure =
  /** An operator approved another request for this serial number, or refused this one. */
  | 'refused'
  /** Nobody typed the code in time: pair again with a new key. */
  | 'expired'
  /** The credential went out in an earlier answer that never arrived: pair again with a new key. */
  | 'delivered'
  /** The server will not pair this device as asked (blocked, legacy mode, bad fields); see the message. */
  | 'rejected'
  | 'aborted'

export class PairingError extends Error {
  constructor(
    readonly reason: PairingFailure,
    message: string,
    readonly answer?: FacesApiAnswer
  ) {
    super(message)
  }
}

export type PairDeviceOptions = {
  serverUrl: string
  deviceName: string
  serial: string
  /** The agent's own secret for this request; keep it until pairing ends (see generatePairingKey). */
  pairingKey: string
  /** The code to show on the screen, for the operator to type on the Devices page. */
  onCode?: (code: string) => void
  /** How often to ask whether an operator approved. */
  pollMs?: number
  /** Longest wait between attempts while the server cannot be reached. */
  maxBackoffMs?: number
  signal?: AbortSignal
  fetch?: typeof fetch
}

/** A new pairing key: 32 random bytes, base64url. */
export function generatePairingKey() {
  return randomBytes(32).toString('base64url')
}

/** Codes that say "not now": the server's Redis or database is away, or the address is over its rate. */
const transientCodes = new Set([8, 9007])

/**
 * Pairs the terminal with its server without typing a credential: asks
 * /faces/api/pair, reports the code to show, and polls until an operator
 * types that code on the Devices page; resolves with the credential. A
 * request refused or expired, or one the server will not take, rejects
 * with a PairingError saying why. While the server cannot be reached (or
 * answers "not now"), it keeps trying with a growing pause.
 */
export async function pairDevice(options: PairDeviceOptions): Promise<string> {
  const pollMs = options.pollMs ?? 2000
  const maxBackoffMs = options.maxBackoffMs ?? 60_000
  const request = options.fetch ?? fetch
  const path = '/faces/api/pair'
  let shownCode: string | null = null
  let failures = 0

  while (true) {
    if (options.signal?.aborted) throw new PairingError('aborted', 'pairing was cancelled')
    let answer: FacesApiAnswer | null = null
    let retryAfterMs = 0
    try {
      const { body, contentType } = encodeBody(
        { deviceName: options.deviceName, sn: options.serial, pairingKey: options.pairingKey },
        'form'
      )
      const response = await request(new URL(path, options.serverUrl), {
        method: 'POST',
        headers: { 'content-type': contentType, 'accept': 'application/json' },
        body,
        signal: options.signal,
      })
      retryAfterMs = Number(response.headers.get('retry-after') ?? 0) * 1000
      answer = (await response.json()) as FacesApiAnswer
    } catch {
      if (options.signal?.aborted) throw new PairingError('aborted', 'pairing was cancelled')
    }

    if (answer && answer.code === 0) {
      failures = 0
      const state = answer.state as string
      const code = answer.pairingCode as string
      if (state === 'approved' && typeof answer.credential === 'string') return answer.credential
      if (state === 'waiting') {
        if (code !== shownCode) {
          shownCode = code
          options.onCode?.(code)
        }
        await pause(pollMs, options.signal)
        continue
      }
      const reason: PairingFailure =
        state === 'refused' || state === 'expired' || state === 'delivered' ? state : 'rejected'
      throw new PairingError(reason, answer.message, answer)
    }
    if (answer && !transientCodes.has(answer.code)) {
      throw new PairingError('rejected', `pair answered ${answer.code}: ${answer.message}`, answer)
    }
    failures++
    const backoff = Math.min(maxBackoffMs, pollMs * 2 ** Math.min(failures, 16))
    await pause(Math.max(backoff, retryAfterMs), options.signal)
  }
}

function pause(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
