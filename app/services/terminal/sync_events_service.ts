import { inject } from '@adonisjs/core'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import { FaceDbRevision } from '#faces/face_db_revision'
import { DeviceCommands } from '#services/device_commands'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { deviceSyncNotices } from '#services/device_sync_notices'
import type { TerminalFailure, TerminalResult } from '#services/terminal/protocol'
import type { AgentCommand } from '#terminal-client/agent_contracts'

export type SyncEventsAnswer = {
  /** Whether changes for this device are waiting: then call getDbs with `since`. */
  changed: boolean
  /** The newest revision of the face database. */
  revision: number
  /** People entries the device would receive or drop (0 with no change). */
  pending: number
  /** Commands an operator gave the device that it has not reported done (see heartbeat). */
  commands: AgentCommand[]
}

const announcementsUnavailable: TerminalFailure = {
  type: 'redis_unavailable',
  message:
    "the server's Redis is unavailable, so changes cannot be announced; retry in a few seconds (getDbs with since still works once Redis is back)",
  retryAfterSeconds: 5,
}

/**
 * syncEvents: a terminal says which revision it holds (its last getDbs
 * answer's), which is also its acknowledgement, and hears at once when
 * changes concern it, or waits until they do, or until the wait ends
 * with "no change". Changes that concern other devices do not wake it.
 * A command an operator queued for the device and not sent yet answers
 * it at once too; every answer carries the commands not reported done.
 */
@inject()
export class SyncEventsService {
  constructor(
    private revisions: FaceDbRevision,
    private ledger: DeviceSyncLedger,
    private commands: DeviceCommands
  ) {}

  /**
   * `onHangUp` receives what to do when the terminal closes the call
   * before the answer: its wait is dropped.
   */
  async next(
    device: Device,
    revision: number,
    onHangUp: (cancel: () => void) => void
  ): Promise<TerminalResult<SyncEventsAnswer>> {
    if (!(await deviceSyncNotices.listening()))
      return { ok: false, error: announcementsUnavailable }
    const current = await this.revisions.current()
    if (revision > current) {
      return {
        ok: false,
        error: {
          type: 'invalid_parameter',
          message: `revision ${revision} is newer than the server's (${current}); send the revision of the last getDbs answer, or 0 when the device holds none`,
        },
      }
    }

    // Waiting before counting, so that an announcement made meanwhile is not missed.
    const waiting = deviceSyncNotices.wait(device.id, terminalConfig.sync.waitSeconds * 1000)
    onHangUp(waiting.cancel)
    try {
      const state = await this.ledger.acknowledge(device.id, revision)
      if (state.pendingChanges > 0) {
        waiting.settle({ type: 'changed', revision: current, pending: state.pendingChanges })
      } else if (await this.commands.hasUnsent(device.id)) {
        waiting.settle({ type: 'commands' })
      }
    } catch (error) {
      waiting.cancel()
      throw error
    }

    const outcome = await waiting.outcome
    if (outcome.type === 'unavailable') return { ok: false, error: announcementsUnavailable }
    const { commands } = await this.commands.take(device.id)
    if (outcome.type === 'timeout' || outcome.type === 'commands') {
      return {
        ok: true,
        data: { changed: false, revision: await this.revisions.current(), pending: 0, commands },
        message: outcome.type === 'commands' ? 'commands to carry out' : 'no change',
      }
    }
    return {
      ok: true,
      data: { changed: true, revision: outcome.revision, pending: outcome.pending, commands },
      message: `revision ${outcome.revision} is available`,
    }
  }
}
