import { createHash, createHmac } from 'node:crypto'
import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import limiter from '@adonisjs/limiter/services/main'
import { errors as limiterErrors } from '@adonisjs/limiter'
import { DateTime } from 'luxon'
import { appKey } from '#config/app'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import DevicePairing, { type PairingState } from '#models/device_pairing'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { DeviceCredentials } from '#services/device_credentials'
import { DeviceService } from '#services/device_service'
import { toSqlDateTime } from '#services/sql_time'
import { uniqueViolation } from '#services/unique_violation'
import { DeviceDirectory } from '#services/terminal/device_directory'
import { DevicePresence } from '#services/terminal/device_presence'
import { TokenThrottle } from '#services/terminal/token_throttle'
import type { TerminalFailure, TerminalResult } from '#services/terminal/protocol'
import type { TerminalCall } from '#validators/terminal_request'

/** What a terminal learns of its pairing request on every call. */
export type PairAnswer = {
  state: PairingState | 'expired'
  /** The code the terminal shows, for the operator to type on the Devices page. */
  pairingCode: string
  /** Seconds the request still waits for an operator; only while waiting. */
  expiresIn?: number
  /** The device's new credential, in the answer that first finds the request approved. */
  credential?: string
}

export type PairingApproval =
  | { ok: true; pairing: DevicePairing; refused: number }
  | { ok: false; error: { type: 'wrong_code' | 'ambiguous_code' | 'blocked' } }

/** A pairing request as the device pages list it. */
export type PairingView = {
  id: number
  deviceId: number
  address: string
  createdAt: DateTime
  expiresAt: DateTime
}

/** Finished requests are kept this long, so that a late poll still learns how its request ended. */
const keptSeconds = 24 * 60 * 60

/**
 * Pairing a terminal agent without typing its credential. The agent keeps
 * a random key and calls /faces/api/pair with it; the server registers the
 * device as pending (as an unsigned token request does, within the same
 * caps), keeps the key's hash and answers a 6-digit code derived from the
 * key, which the agent shows on its screen. An operator types that code
 * on the Devices page: only the request showing it is approved, gets the
 * device's new credential once, on its next poll, and every other request
 * for that serial number is refused. Anyone on the network can read a
 * terminal's label and ask in its name, so requests never see each
 * other's codes, and each has its own.
 */
@inject()
export class DevicePairingService {
  constructor(
    private throttle: TokenThrottle,
    private directory: DeviceDirectory,
    private devices: DeviceService,
    private credentials: DeviceCredentials,
    private presence: DevicePresence,
    private audit: AuditTrail
  ) {}

  static keyHash(pairingKey: string) {
    return createHash('sha256').update(pairingKey).digest('hex')
  }

  /**
   * Keyed with APP_KEY, so that nobody who sees requests go by can choose
   * a key whose code matches another terminal's.
   */
  static codeFor(pairingKey: string) {
    const digest = createHmac('sha256', appKey.release())
      .update(`device-pairing-code\n${pairingKey}`)
      .digest()
    return String(digest.readUInt32BE(0) % 1_000_000).padStart(6, '0')
  }

  async request(
    input: { deviceName: string; sn: string; pairingKey: string },
    call: TerminalCall
  ): Promise<TerminalResult<PairAnswer>> {
    const limited = await this.throttle.check(call.address)
    if (limited) {
      const message = `too many requests from this address; try again in ${limited.retryAfterSeconds} s`
      return { ok: false, error: { type: 'rate_limited', message, ...limited } }
    }
    const keyHash = DevicePairingService.keyHash(input.pairingKey)
    const known = await DevicePairing.findBy('keyHash', keyHash)
    if (known) return this.#poll(known, input, input.pairingKey)
    return this.#open(input, call, keyHash)
  }

  async #open(
    input: { deviceName: string; sn: string; pairingKey: string },
    call: TerminalCall,
    keyHash: string
  ): Promise<TerminalResult<PairAnswer>> {
    const spent = await this.#spendRefusedBudget(call.address)
    if (spent) return { ok: false, error: spent }

    let { device, posedAs } = await this.directory.identify(input.deviceName, input.sn)
    if (!device && posedAs) {
      return failure({
        type: 'device_mismatch',
        message:
          'deviceName and sn name different devices, or this serial number is known under another name',
      })
    }
    if (!device) {
      const registered = await this.directory.registerPending(
        input.deviceName,
        input.sn,
        call.address
      )
      // Null also when another call registered it first: then it exists now.
      const raced = registered ? null : await this.directory.identify(input.deviceName, input.sn)
      device = registered ?? raced?.device ?? null
    }
    if (!device) {
      return failure({
        type: 'pairing_refused',
        message:
          'the server holds as many devices waiting for approval as it allows; an operator approves or deletes some on the Devices page',
      })
    }
    if (device.status === 'blocked') {
      return failure({
        type: 'device_not_approved',
        message: `device "${device.name}" is blocked; an operator approves it again before it can pair`,
      })
    }
    if (device.legacyMode) {
      return failure({
        type: 'pairing_refused',
        message: `device "${device.name}" runs in legacy mode; an operator turns that off on its page before it can pair`,
      })
    }

    const { pairingTtlSeconds, pairingsPerDevice } = terminalConfig.agent
    const waiting = await this.#waiting(device.id)
    if (waiting.length >= pairingsPerDevice) {
      const oldest = waiting[0].createdAt.plus({ seconds: pairingTtlSeconds })
      const retryAfterSeconds = Math.max(1, Math.ceil(oldest.diffNow('seconds').seconds))
      return failure({
        type: 'rate_limited',
        message: `${pairingsPerDevice} pairing requests already wait for this serial number; try again in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      })
    }

    await DevicePairing.query()
      .where('created_at', '<', toSqlDateTime(DateTime.now().minus({ seconds: keptSeconds })))
      .delete()
    try {
      const pairing = await DevicePairing.create({
        deviceId: device.id,
        keyHash,
        code: DevicePairingService.codeFor(input.pairingKey),
        address: call.address,
        state: 'waiting',
      })
      await this.presence.seen(device.id, call.address)
      return this.#answer(pairing, input.pairingKey)
    } catch (error) {
      if (uniqueViolation(error) === null) throw error
      // The same key sent twice at once: the other call opened the request.
      const opened = await DevicePairing.findByOrFail('keyHash', keyHash)
      return this.#poll(opened, input, input.pairingKey)
    }
  }

  async #poll(
    pairing: DevicePairing,
    input: { deviceName: string; sn: string },
    pairingKey: string
  ): Promise<TerminalResult<PairAnswer>> {
    const owner = await db
      .from('devices')
      .where('id', pairing.deviceId)
      .select('name', 'serial_number')
      .first()
    if (!owner || owner.serial_number !== input.sn || owner.name !== input.deviceName) {
      return failure({
        type: 'invalid_parameter',
        message: 'this pairingKey was sent for another device; use a new random key',
      })
    }
    if (pairing.state !== 'approved') return this.#answer(pairing, pairingKey)

    const sealed = pairing.credentialSecret
    const claimed = affected(
      await db.from('device_pairings').where('id', pairing.id).where('state', 'approved').update({
        state: 'delivered',
        credential_secret: null,
        delivered_at: toSqlDateTime(),
      })
    )
    const credential = claimed === 1 && sealed ? DeviceCredentials.open(sealed) : null
    if (!credential) {
      await pairing.refresh()
      return this.#answer(pairing, pairingKey)
    }
    return {
      ok: true,
      data: { state: 'approved', pairingCode: pairing.code, credential },
      message: 'approved: keep this credential and sign every call with it; it is not sent again',
    }
  }

  #answer(pairing: DevicePairing, pairingKey: string): TerminalResult<PairAnswer> {
    const pairingCode = DevicePairingService.codeFor(pairingKey)
    const expiresAt = pairing.createdAt.plus({ seconds: terminalConfig.agent.pairingTtlSeconds })
    const left = Math.ceil(expiresAt.diffNow('seconds').seconds)
    if (pairing.state === 'waiting' && left <= 0) {
      return {
        ok: true,
        data: { state: 'expired', pairingCode },
        message: 'expired: no operator approved the request in time; pair again with a new key',
      }
    }
    const messages: Record<PairingState, string> = {
      waiting: `waiting for an operator to type code ${pairingCode} on the Devices page`,
      approved: 'approved',
      delivered:
        'the credential was delivered already; a terminal that lost it pairs again with a new key',
      refused: 'refused: an operator approved another request for this device, or refused this one',
    }
    return {
      ok: true,
      data: {
        state: pairing.state,
        pairingCode,
        ...(pairing.state === 'waiting' ? { expiresIn: left } : {}),
      },
      message: messages[pairing.state],
    }
  }

  /** The device's requests still waiting for an operator, oldest first. */
  async #waiting(deviceId: number, client = db.connection()) {
    return DevicePairing.query({ client })
      .where('device_id', deviceId)
      .where('state', 'waiting')
      .where('created_at', '>', toSqlDateTime(this.#oldestWaiting()))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
  }

  #oldestWaiting() {
    return DateTime.now().minus({ seconds: terminalConfig.agent.pairingTtlSeconds })
  }

  /**
   * The requests waiting for an operator, of the given devices or of all
   * (the Devices page), oldest first.
   */
  async waitingFor(deviceIds?: number[]): Promise<Map<number, PairingView[]>> {
    const query = DevicePairing.query()
      .where('state', 'waiting')
      .where('created_at', '>', toSqlDateTime(this.#oldestWaiting()))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
    if (deviceIds) query.whereIn('device_id', deviceIds)
    const views = new Map<number, PairingView[]>()
    for (const pairing of await query.limit(500)) {
      const list = views.get(pairing.deviceId) ?? []
      list.push({
        id: pairing.id,
        deviceId: pairing.deviceId,
        address: pairing.address,
        createdAt: pairing.createdAt,
        expiresAt: pairing.createdAt.plus({ seconds: terminalConfig.agent.pairingTtlSeconds }),
      })
      views.set(pairing.deviceId, list)
    }
    return views
  }

  /**
   * Approves the waiting request that shows `code`: the device becomes
   * approved, gets a new credential (an old one stops working) that waits
   * for that request's next poll, and the device's other requests are
   * refused. A code no waiting request shows changes nothing.
   */
  async approve(actor: Actor, device: Device, code: string): Promise<PairingApproval> {
    if (device.status === 'blocked') return { ok: false, error: { type: 'blocked' } }
    return db.transaction(async (trx) => {
      const waiting = await this.#waiting(device.id, trx)
      const matches = waiting.filter((one) => one.code === code)
      if (matches.length === 0) return { ok: false, error: { type: 'wrong_code' } } as const
      if (matches.length > 1) return { ok: false, error: { type: 'ambiguous_code' } } as const
      const [pairing] = matches
      const now = toSqlDateTime()
      const claimed = affected(
        await trx
          .from('device_pairings')
          .where('id', pairing.id)
          .where('state', 'waiting')
          .update({ state: 'approved', decided_at: now })
      )
      if (claimed !== 1) return { ok: false, error: { type: 'wrong_code' } } as const

      await this.devices.setStatus(actor, device, 'approved', trx)
      const secret = await this.credentials.issue(actor, device, trx)
      await trx
        .from('device_pairings')
        .where('id', pairing.id)
        .update({ credential_secret: DeviceCredentials.seal(secret) })
      const refused = affected(
        await trx
          .from('device_pairings')
          .where('device_id', device.id)
          .where('state', 'waiting')
          .update({ state: 'refused', decided_at: now })
      )
      await this.audit.record(
        actor,
        {
          action: 'device.pairing.approve',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
          after: {
            address: pairing.address,
            requestedAt: pairing.createdAt.toISO(),
            otherRequestsRefused: refused,
          },
        },
        trx
      )
      pairing.state = 'approved'
      return { ok: true, pairing, refused } as const
    })
  }

  /** Refuses every request waiting for the device (someone else asking in its name). */
  async refuseAll(actor: Actor, device: Device) {
    return db.transaction(async (trx) => {
      const refused = affected(
        await trx
          .from('device_pairings')
          .where('device_id', device.id)
          .where('state', 'waiting')
          .update({ state: 'refused', decided_at: toSqlDateTime() })
      )
      if (refused === 0) return 0
      await this.audit.record(
        actor,
        {
          action: 'device.pairing.refuse',
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
          after: { refused },
        },
        trx
      )
      return refused
    })
  }

  /**
   * New pairing requests count against the budget of refused calls of the
   * address, as unsigned token requests do: a stranger inventing serial
   * numbers is slowed down the same way. Polls do not count.
   */
  async #spendRefusedBudget(address: string): Promise<TerminalFailure | null> {
    const window = terminalConfig.auth.rateWindowSeconds
    const perMinute = terminalConfig.auth.refusedPerAddressPerMinute
    const requests = Math.max(1, Math.round((perMinute * window) / 60))
    try {
      await limiter.use({ requests, duration: window }).consume(`terminal_refused_${address}`)
      return null
    } catch (error) {
      if (!(error instanceof limiterErrors.E_TOO_MANY_REQUESTS)) throw error
      const retryAfterSeconds = Math.max(1, error.response.availableIn)
      return {
        type: 'rate_limited',
        message: `too many new requests from this address; try again in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      }
    }
  }
}

const failure = (error: TerminalFailure) => ({ ok: false, error }) as const

/** Rows an UPDATE changed, as either database reports them. */
function affected(result: unknown) {
  return Number(Array.isArray(result) ? result[0] : result)
}
