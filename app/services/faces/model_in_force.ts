import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { toSqlDateTime } from '#services/sql_time'

export type FaceModelState = {
  /** The model the stored faces' features are in, which the server embeds with. */
  modelInForce: string | null
  /** What the server's engine embeds with by default, as it last said when it started. */
  configuredModel: string | null
  /** The model a re-embedding is bringing the faces to, while one is under way. */
  targetModel: string | null
  /** Switches done so far: a re-embedding's job id names the one it leads to. */
  generation: number
  startedAt: string | null
  switchedAt: string | null
  lastError: string | null
}

/**
 * How long a process trusts the model in force it read: a switch is
 * announced to every process at once, and this bounds how long one that
 * missed the announcement (Redis away) goes on with the old model.
 */
const recheckMs = 5_000

let known: { model: string; at: number } | null = null

type Client = TransactionClientContract | typeof db

/**
 * The gallery's model in force: the recognition model the stored faces'
 * features are in. Every feature compared with them (faceIdentify,
 * enrolment, faceFeature) is made with it, whatever the engine is
 * configured with, until a re-embedding switches the faces to the
 * configured model in one transaction.
 */
export class ModelInForce {
  /**
   * The model in force; a server that never recorded one (no faces when
   * it was installed) adopts `configured`, the engine's own model.
   */
  async current(configured: string) {
    if (known && Date.now() - known.at < recheckMs) return known.model
    const state = await this.state()
    let model = state.modelInForce
    if (!model) {
      await db
        .from('face_model_state')
        .where('id', 1)
        .whereNull('model_in_force')
        .update({ model_in_force: configured, updated_at: toSqlDateTime() })
      const adopted = await this.state()
      model = adopted.modelInForce ?? configured
    }
    known = { model, at: Date.now() }
    return model
  }

  /** A switch was announced (or made here): the next use reads the database again. */
  static forget() {
    known = null
  }

  async state(client: Client = db): Promise<FaceModelState> {
    let row = await client.from('face_model_state').where('id', 1).first()
    if (!row) {
      await client
        .table('face_model_state')
        .insert({ id: 1, generation: 0, updated_at: toSqlDateTime() })
        .onConflict('id')
        .ignore()
      row = await client.from('face_model_state').where('id', 1).first()
    }
    return {
      modelInForce: row.model_in_force ?? null,
      configuredModel: row.configured_model ?? null,
      targetModel: row.target_model ?? null,
      generation: Number(row.generation),
      startedAt: timeOf(row.started_at),
      switchedAt: timeOf(row.switched_at),
      lastError: row.last_error ?? null,
    }
  }

  async update(
    changes: Partial<Record<keyof typeof columns, string | number | null>>,
    client: Client = db
  ) {
    await this.state(client)
    const row: Record<string, string | number | null> = { updated_at: toSqlDateTime() }
    for (const [key, value] of Object.entries(changes)) {
      row[columns[key as keyof typeof columns]] = value
    }
    await client.from('face_model_state').where('id', 1).update(row)
  }
}

const columns = {
  modelInForce: 'model_in_force',
  configuredModel: 'configured_model',
  targetModel: 'target_model',
  generation: 'generation',
  startedAt: 'started_at',
  switchedAt: 'switched_at',
  lastError: 'last_error',
} as const

/** A timestamp as SQLite (text) or PostgreSQL (a Date) returns it. */
function timeOf(value: string | Date | null) {
  if (!value) return null
  return value instanceof Date ? toSqlDateTime(value) : String(value)
}
