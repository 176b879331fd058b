import type Device from '#models/device'
import { encodeBody, signCall, type FacesApiFields } from '#terminal-client/faces_api_client'
import { credentialOf, serverUrl } from '#tests/helpers/terminal'

export type Answer = { status: number; body: Record<string, any> }

/**
 * A signed call as a terminal makes it, over its own HTTP connection
 * (fetch), so that a thousand of them can wait at once; `signal` hangs up.
 */
export async function terminalCall(
  device: Device,
  endpoint: string,
  fields: FacesApiFields,
  signal?: AbortSignal
): Promise<Answer> {
  const path = `/faces/api/${endpoint}`
  const { body, contentType } = encodeBody(fields, 'json')
  const headers = signCall(credentialOf(device), { method: 'POST', path, body })
  const response = await fetch(`${serverUrl}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType, ...headers },
    signal,
  })
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

export async function terminalToken(device: Device) {
  const answer = await terminalCall(device, 'token', {
    deviceName: device.name,
    sn: device.serialNumber,
  })
  if (answer.body.code !== 0) throw new Error(`no token: ${JSON.stringify(answer.body)}`)
  return answer.body.token as string
}

/** syncEvents with a fresh token: the terminal holds `revision` and waits for a change. */
export async function syncEvents(device: Device, revision: number, signal?: AbortSignal) {
  const token = await terminalToken(device)
  return terminalCall(
    device,
    'syncEvents',
    { deviceName: device.name, deviceSN: device.serialNumber, token, revision },
    signal
  )
}

/** getDbs with a fresh token, from `since` when given. */
export async function getDbsSince(device: Device, since?: number) {
  const token = await terminalToken(device)
  return terminalCall(device, 'getDbs', {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    token,
    since,
  })
}

/** Runs `work` for every item, at most `width` at a time. */
export async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const at = next++
      results[at] = await work(items[at])
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane))
  return results
}
