import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import AccessEvent, { type AccessMethod } from '#models/access_event'
import type Device from '#models/device'
import type Person from '#models/person'
import type { AccessVerdict } from '#services/access_decision_service'
import { AccessEventFeed } from '#services/access_event_feed'

export type AccessEventInput = {
  device: Device
  person: Person | null
  /** The name the terminal reported, kept when it matches nobody. */
  reportedName: string | null
  score: number | null
  /** A 1:N search's next person's score and the threshold then in force. */
  identification?: { runnerUpScore: number | null; threshold: number }
  verdict: AccessVerdict
  method: AccessMethod
  occurredAt: DateTime
  snapshotPath: string | null
  /** The terminal's own id for a report it may retry. */
  terminalEventId?: string | null
}

/** How an event names its device, also once the device is deleted. */
export function deviceLabel(device: Pick<Device, 'name' | 'serialNumber'>) {
  return `${device.name} (${device.serialNumber})`
}

/**
 * Records an access decision and announces it to the open admin pages.
 */
@inject()
export class AccessEventRecorder {
  constructor(private feed: AccessEventFeed) {}

  /**
   * A report with the terminal's own id is written in a transaction of its
   * own, so that a duplicate (the unique index on device and id) fails
   * alone and leaves any surrounding work intact.
   */
  async record(input: AccessEventInput) {
    const row = {
      deviceId: input.device.id,
      deviceLabel: deviceLabel(input.device),
      personId: input.person?.id ?? null,
      reportedName: input.reportedName,
      score: input.score,
      runnerUpScore: input.identification?.runnerUpScore ?? null,
      threshold: input.identification?.threshold ?? null,
      decision: input.verdict.decision,
      reason: input.verdict.reason,
      method: input.method,
      snapshotPath: input.snapshotPath,
      terminalEventId: input.terminalEventId ?? null,
      occurredAt: input.occurredAt,
      receivedAt: DateTime.now(),
    }
    const event = input.terminalEventId
      ? await db.transaction((trx) => AccessEvent.create(row, { client: trx }))
      : await AccessEvent.create(row)
    await this.feed.publish({ id: event.id })
    return event
  }
}
