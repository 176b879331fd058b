import { inject } from '@adonisjs/core'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import DeviceCommand, { type DeviceCommandType } from '#models/device_command'
import type Person from '#models/person'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { deviceSyncNotices } from '#services/device_sync_notices'
import { toSqlDateTime } from '#services/sql_time'
import type { AgentCommand } from '#terminal-client/agent_contracts'

/** Where a command stands, as the device page shows it. */
export type CommandStatus = 'waiting' | 'delivered' | 'done' | 'expired'

export type CommandView = {
  id: number
  type: DeviceCommandType
  status: CommandStatus
  issuedAt: DateTime
  issuedBy: string | null
  /** The person an `enrol` command enrols. */
  username: string | null
  deliveredAt: DateTime | null
  doneAt: DateTime | null
}

/**
 * Commands operators give a terminal agent from its page. A command is
 * sent with every syncEvents and heartbeat answer of the device until the
 * agent reports it done (the agent runs each id once), or until it is too
 * old to carry out: a door that opens long after the click, or a restart
 * nobody waits for any more, is worse than none. A device's waiting
 * syncEvents call answers at once when a command is queued for it. An
 * `enrol` command names the person the agent enrols from its next good
 * face; it is reported done after that attempt, whatever its outcome.
 */
@inject()
export class DeviceCommands {
  constructor(private audit: AuditTrail) {}

  static ttlSeconds(type: DeviceCommandType) {
    return terminalConfig.agent.commandTtlSeconds[type]
  }

  async queue(actor: Actor, device: Device, type: DeviceCommandType, person?: Person) {
    if ((type === 'enrol') !== Boolean(person)) {
      throw new Error('an enrol command, and only it, names a person')
    }
    const command = await db.transaction(async (trx) => {
      const queued = await DeviceCommand.create(
        {
          deviceId: device.id,
          type,
          personId: person?.id ?? null,
          issuedBy: actor.userId,
          issuedAt: DateTime.now(),
        },
        { client: trx }
      )
      await this.audit.record(
        actor,
        {
          action: `device.command.${type}`,
          subjectType: 'device',
          subjectId: device.id,
          subjectLabel: `${device.name} (${device.serialNumber})`,
          after: person
            ? { command: queued.id, username: person.username }
            : { command: queued.id },
        },
        trx
      )
      return queued
    })
    try {
      await deviceSyncNotices.publishCommands(device.id)
    } catch (error) {
      // The agent still receives it with its next heartbeat.
      logger.warn({ err: error, device: device.serialNumber }, 'a waiting terminal was not woken')
    }
    return command
  }

  /**
   * The commands the device should carry out now, oldest first, marked
   * delivered; `fresh` says whether one of them had not been sent before.
   */
  async take(deviceId: number): Promise<{ commands: AgentCommand[]; fresh: boolean }> {
    const longest = Math.max(...Object.values(terminalConfig.agent.commandTtlSeconds))
    const rows = await DeviceCommand.query()
      .where('device_id', deviceId)
      .whereNull('done_at')
      .where('issued_at', '>', toSqlDateTime(DateTime.now().minus({ seconds: longest })))
      .orderBy('id', 'asc')
      .limit(100)
    const live = rows.filter((row) => !isExpired(row))
    const unsent = live.filter((row) => row.deliveredAt === null).map((row) => row.id)
    if (unsent.length > 0) {
      await db
        .from('device_commands')
        .whereIn('id', unsent)
        .whereNull('delivered_at')
        .update({ delivered_at: toSqlDateTime() })
    }
    const people = await this.#people(live)
    return {
      commands: live.map((row) => {
        const person = row.personId === null ? undefined : people.get(row.personId)
        return {
          id: row.id,
          type: row.type,
          issuedAt: row.issuedAt.toUTC().toISO()!,
          ...(person ? { username: person.username, name: person.display_name } : {}),
        }
      }),
      fresh: unsent.length > 0,
    }
  }

  /** Whether a command waits for the device that it has not been sent yet. */
  async hasUnsent(deviceId: number) {
    const longest = Math.max(...Object.values(terminalConfig.agent.commandTtlSeconds))
    const rows = await DeviceCommand.query()
      .where('device_id', deviceId)
      .whereNull('done_at')
      .whereNull('delivered_at')
      .where('issued_at', '>', toSqlDateTime(DateTime.now().minus({ seconds: longest })))
      .limit(100)
    return rows.some((row) => !isExpired(row))
  }

  /** The agent carried these out: they are not sent again. Ids of other devices are ignored. */
  async done(deviceId: number, ids: number[]) {
    if (ids.length === 0) return
    await db
      .from('device_commands')
      .where('device_id', deviceId)
      .whereIn('id', ids)
      .whereNull('done_at')
      .update({ done_at: toSqlDateTime() })
  }

  /** The device's latest commands, newest first, with who gave them. */
  async recent(deviceId: number, limit = 10): Promise<CommandView[]> {
    const rows = await DeviceCommand.query()
      .where('device_id', deviceId)
      .orderBy('id', 'desc')
      .limit(limit)
    const userIds = [...new Set(rows.map((row) => row.issuedBy).filter((id) => id !== null))]
    const users = userIds.length
      ? await db.from('users').whereIn('id', userIds).select('id', 'full_name', 'email')
      : []
    const names = new Map<number, string>(
      users.map((user) => [Number(user.id), user.full_name || user.email])
    )
    const people = await this.#people(rows)
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      username: row.personId === null ? null : (people.get(row.personId)?.username ?? null),
      status: row.doneAt
        ? 'done'
        : isExpired(row)
          ? 'expired'
          : row.deliveredAt
            ? 'delivered'
            : 'waiting',
      issuedAt: row.issuedAt,
      issuedBy: row.issuedBy === null ? null : (names.get(row.issuedBy) ?? null),
      deliveredAt: row.deliveredAt,
      doneAt: row.doneAt,
    }))
  }

  async #people(rows: DeviceCommand[]) {
    const ids = [...new Set(rows.map((row) => row.personId).filter((id) => id !== null))]
    const people = ids.length
      ? await db.from('people').whereIn('id', ids).select('id', 'username', 'display_name')
      : []
    return new Map<number, { username: string; display_name: string }>(
      people.map((person) => [Number(person.id), person])
    )
  }
}

function isExpired(command: DeviceCommand) {
  const ttl = DeviceCommands.ttlSeconds(command.type)
  return command.issuedAt.plus({ seconds: ttl }) <= DateTime.now()
}
