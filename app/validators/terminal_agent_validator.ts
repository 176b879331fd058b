import vine from '@vinejs/vine'
import { deviceCommandTypes } from '#models/device_command'

/**
 * Field rules of the terminal agent's calls (/faces/api/pair, heartbeat),
 * in the style of the terminal protocol's: a missing field is code 9005, a
 * field of the wrong type or shape code 2.
 */

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

/** The agent's own random secret: long enough that nobody guesses it. */
export const pairingKeyPattern = /^[A-Za-z0-9_-]{32,128}$/

export const pairRequestValidator = vine.create({
  deviceName: deviceName(),
  sn: serialNumber(),
  pairingKey: vine.string().regex(pairingKeyPattern),
})

export const heartbeatRequestValidator = vine.create({
  deviceName: deviceName(),
  deviceSN: serialNumber(),
  token: vine
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{40}$/)
    .transform((value) => value.toLowerCase())
    .optional(),
  /** The AgentHeartbeat: a JSON object, or its JSON text in a form field. */
  state: vine.any(),
})

const partHealth = () =>
  vine.object({
    state: vine.enum(['ok', 'fault', 'absent'] as const),
    detail: vine.string().maxLength(200).optional(),
  })

const count = () => vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER)

/** AgentHeartbeat (app/terminal_client/agent_contracts.ts), field by field. */
export const agentHeartbeatValidator = vine.create({
  mode: vine.enum(['online', 'offline'] as const),
  backlog: count(),
  oldestUnsentAgeMs: count().nullable(),
  shedSnapshots: count().optional(),
  revision: count(),
  camera: partHealth(),
  gate: partHealth(),
  reader: partHealth(),
  light: partHealth(),
  commandsDone: vine.array(count()).maxLength(1000),
  version: vine.string().trim().minLength(1).maxLength(64),
})

export const pairingApprovalValidator = vine.create({
  code: vine
    .string()
    .trim()
    .regex(/^[0-9]{6}$/),
})

export const deviceCommandValidator = vine.create({
  type: vine.enum(deviceCommandTypes),
  /** The person an `enrol` command enrols: a username, or a name only one person has. */
  person: vine.string().trim().maxLength(120).optional(),
})
