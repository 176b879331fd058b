import { timingSafeEqual } from 'node:crypto'
import { inject } from '@adonisjs/core'
import limiter from '@adonisjs/limiter/services/main'
import { errors as limiterErrors } from '@adonisjs/limiter'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'
import Device from '#models/device'
import { DeviceCredentials } from '#services/device_credentials'
import { DeviceDirectory } from '#services/terminal/device_directory'
import { DevicePresence } from '#services/terminal/device_presence'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { DeviceTokenStore, type TokenBinding } from '#services/terminal/device_token_store'
import { terminalEndpoints, type TerminalFailure } from '#services/terminal/protocol'
import { signature } from '#services/terminal/request_signing'
import type { SignedProof, TerminalCall } from '#validators/terminal_request'

/**
 * How a call names its device: by token alone (the engine endpoints), or
 * by name and serial number with a token where the endpoint takes one.
 */
export type DeviceClaim =
  | { token: string; deviceName?: undefined; deviceSN?: undefined }
  | { deviceName: string; deviceSN: string; token?: string }

export type Admission =
  | { ok: true; device: Device; binding: TokenBinding }
  | {
      ok: false
      error: TerminalFailure
      /** Set when an unsigned call named a device nobody knows: /token registers it. */
      unknown?: { deviceName: string; serialNumber: string }
    }

/**
 * The one answer to a caller that did not prove it is a device: the same
 * whether the name or serial number exists, belongs to another device, is
 * pending, or the signature is wrong, so that answers tell a guesser
 * nothing.
 */
const notProven: TerminalFailure = {
  type: 'permission_denied',
  message:
    "the call is not signed with this device's credential (see /docs); a device the server " +
    "does not know yet is registered by /faces/api/token and waits for an operator's approval",
}

const spentToken: TerminalFailure = {
  type: 'token_expired',
  message: 'the token is unknown, expired or already used; ask /faces/api/token for a new one',
}

/** Keeps the time of a refusal for an unknown serial number like that of a known one. */
const decoySecret = 'fa1_decoy-key-for-unknown-serial-numbers'

type Refused = {
  ok: false
  error: TerminalFailure
  device: Device | null
  reason: string
  unknown?: { deviceName: string; serialNumber: string }
}

/**
 * Lets a call through only from a device that proves who it is: a call
 * signed with the device's credential, or, from a legacy device an
 * operator allowed to send name and serial number only, an unsigned call
 * from its pinned address. Then the device must be approved and allowed
 * the endpoint, the token (where the endpoint takes one) must have been
 * issued to it under the same proof, and it must be within its rate.
 * Every refusal is logged against the device named, and refusals from one
 * address beyond a small budget are answered 8 (Pause).
 */
@inject()
export class DeviceGate {
  constructor(
    private directory: DeviceDirectory,
    private tokens: DeviceTokenStore,
    private presence: DevicePresence,
    private refusals: DeviceRefusals
  ) {}

  async admit(credentials: DeviceClaim, call: TerminalCall): Promise<Admission> {
    const proven = call.proof
      ? await this.#verifySigned(call.proof, call)
      : await this.#verifyLegacy(credentials, call)
    if (!proven.ok) return this.#refuse(call, proven)
    const { device, binding } = proven

    if (credentials.deviceName !== undefined && call.proof) {
      if (credentials.deviceSN !== device.serialNumber || credentials.deviceName !== device.name) {
        return this.#refuse(call, {
          ok: false,
          device,
          reason: 'the fields name another device than the signature',
          error: {
            type: 'device_mismatch',
            message: `the call is signed by serial number ${device.serialNumber}, whose name is "${device.name}"`,
          },
        })
      }
    }

    await this.presence.seen(device.id, call.address)
    if (!device.isApproved) {
      const state =
        device.status === 'blocked' ? 'is blocked' : "is waiting for an operator's approval"
      return this.#refuse(call, {
        ok: false,
        device,
        reason: `the device ${state}`,
        error: { type: 'device_not_approved', message: `device "${device.name}" ${state}` },
      })
    }
    const permission = terminalEndpoints[call.endpoint].permission
    if (permission && !device.may(permission)) {
      return this.#refuse(call, {
        ok: false,
        device,
        reason: `no ${permission} permission`,
        error: {
          type: 'permission_denied',
          message: `device "${device.name}" may not call ${call.endpoint} (it lacks the ${permission} permission; an operator grants it on the device's page)`,
        },
      })
    }

    const limited = await this.#consume(
      `terminal_device_${device.id}`,
      terminalConfig.auth.perDevicePerMinute
    )
    if (limited) return { ok: false, error: limited }
    if (credentials.token !== undefined) {
      const redeemed = await this.tokens.redeemFor(credentials.token, device.id, binding)
      if (redeemed === 'unknown') return { ok: false, error: spentToken }
      if (redeemed === 'other') {
        return {
          ok: false,
          error: {
            type: 'token_expired',
            message: 'the token was issued to another device, or to this one under another proof',
          },
        }
      }
    }

    return { ok: true, device, binding }
  }

  async #verifySigned(
    proof: SignedProof,
    call: TerminalCall
  ): Promise<{ ok: true; device: Device; binding: TokenBinding } | Refused> {
    const skew = Math.round(Date.now() / 1000) - proof.timestamp
    if (Math.abs(skew) > terminalConfig.auth.maxSkewSeconds) {
      const now = Math.round(Date.now() / 1000)
      return {
        ok: false,
        device: null,
        reason: 'the signature is too old or from the future',
        error: {
          type: 'signature_expired',
          message: `X-Device-Timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} the server's clock (${now}); at most ${terminalConfig.auth.maxSkewSeconds} s are accepted`,
        },
      }
    }
    if (proof.receivedSha256 !== proof.contentSha256) {
      return {
        ok: false,
        device: null,
        reason: 'the body does not match its digest',
        error: {
          type: 'invalid_parameter',
          message: 'X-Device-Content-SHA256 is not the SHA-256 of the body that arrived',
        },
      }
    }

    const device = await Device.findBy('serialNumber', proof.serialNumber)
    const secret = device ? DeviceCredentials.secretOf(device) : null
    const expected = signature(secret ?? decoySecret, {
      method: call.method,
      path: call.path,
      timestamp: proof.timestamp,
      nonce: proof.nonce,
      serialNumber: proof.serialNumber,
      contentSha256: proof.contentSha256,
    })
    const matches = timingSafeEqual(
      Buffer.from(expected, 'hex'),
      Buffer.from(proof.signature, 'hex')
    )
    if (!device || !secret || !matches) {
      const reason = !device
        ? 'signed for an unknown serial number'
        : !secret
          ? 'signed, but the device has no credential'
          : 'the signature does not verify'
      return { ok: false, device, reason, error: notProven }
    }

    const fresh = await redis.set(
      `${terminalConfig.keyspace}:nonce:${device.id}:${proof.nonce}`,
      '1',
      'EX',
      terminalConfig.auth.maxSkewSeconds * 2 + 1,
      'NX'
    )
    if (fresh === null) {
      return {
        ok: false,
        device,
        reason: 'a replayed signature',
        error: {
          type: 'permission_denied',
          message: 'this signature was used already: every call needs a new X-Device-Nonce',
        },
      }
    }
    return { ok: true, device, binding: 'signed' }
  }

  /**
   * An unsigned call: only a legacy device at its pinned address passes.
   * The device is the one the token was issued to, or the one the name
   * and serial number name together.
   */
  async #verifyLegacy(
    credentials: DeviceClaim,
    call: TerminalCall
  ): Promise<{ ok: true; device: Device; binding: TokenBinding } | Refused> {
    let device: Device | null = null
    if (credentials.deviceName !== undefined) {
      const lookup = await this.directory.identify(credentials.deviceName, credentials.deviceSN)
      if (!lookup.device) {
        const unknown = lookup.posedAs
          ? undefined
          : { deviceName: credentials.deviceName, serialNumber: credentials.deviceSN }
        return {
          ok: false,
          device: lookup.posedAs,
          reason: unknown
            ? 'unsigned, naming an unknown device'
            : 'unsigned, with a name and serial number that do not match',
          error: notProven,
          unknown,
        }
      }
      device = lookup.device
    } else {
      const owner = await this.tokens.ownerOf(credentials.token)
      if (owner === null) {
        return { ok: false, device: null, reason: 'an unknown token', error: spentToken }
      }
      device = await Device.find(owner)
    }

    if (!device) return { ok: false, device: null, reason: 'an unknown device', error: notProven }
    if (!device.legacyMode && !device.hasCredential && device.status === 'pending') {
      // A new terminal has no credential yet: its calls are how operators see it.
      await this.presence.seen(device.id, call.address)
      return { ok: false, device: null, reason: 'pending', error: notProven }
    }
    if (!device.legacyMode) {
      return {
        ok: false,
        device,
        reason: 'unsigned, and the device is not in legacy mode',
        error: notProven,
      }
    }
    if (device.pinnedAddress !== call.address) {
      return {
        ok: false,
        device,
        reason: `unsigned from ${call.address}, not from the pinned address`,
        error: notProven,
      }
    }
    return { ok: true, device, binding: 'legacy' }
  }

  async #refuse(call: TerminalCall, refused: Refused): Promise<Admission> {
    const limited = await this.#consume(
      `terminal_refused_${call.address}`,
      terminalConfig.auth.refusedPerAddressPerMinute
    )
    if (limited) return { ok: false, error: limited }
    if (refused.reason !== 'pending') {
      await this.refusals.record(refused.device, {
        address: call.address,
        endpoint: call.endpoint,
        reason: refused.reason,
      })
    }
    return { ok: false, error: refused.error, unknown: refused.unknown }
  }

  async #consume(key: string, perMinute: number): Promise<TerminalFailure | null> {
    const window = terminalConfig.auth.rateWindowSeconds
    const requests = Math.max(1, Math.round((perMinute * window) / 60))
    try {
      await limiter.use({ requests, duration: window }).consume(key)
      return null
    } catch (error) {
      if (!(error instanceof limiterErrors.E_TOO_MANY_REQUESTS)) throw error
      const retryAfterSeconds = Math.max(1, error.response.availableIn)
      return {
        type: 'rate_limited',
        message: `too many calls; try again in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      }
    }
  }
}
