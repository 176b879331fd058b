import { column, belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { VideoEnrolmentSchema } from '#database/schema'
import Person from '#models/person'
import { jsonColumn } from '#models/json_column'

export const videoEnrolmentStatuses = ['queued', 'running', 'done', 'failed', 'cancelled'] as const
export type VideoEnrolmentStatus = (typeof videoEnrolmentStatuses)[number]

/** What a running job is doing: reading frames, or enrolling the chosen ones (no cancel then). */
export type VideoEnrolmentStage = 'decoding' | 'enrolling'

/** One of the best frames so far, shown while the job runs. */
export type BestFrame = {
  frame: number
  /** Seconds into the video. */
  at: number
  score: number
  yaw: number
  pitch: number
  /** File name of its thumbnail in the job's staging folder. */
  thumbnail: string
}

/** A chosen frame and what enrolling it gave: a face, or FaceEnrolment's refusal. */
export type ChosenFrame = {
  frame: number
  at: number
  score: number
  faceId: number | null
  refusal: { type: string; message: string } | null
}

export const finishedStatuses: readonly VideoEnrolmentStatus[] = ['done', 'failed', 'cancelled']

/** A video uploaded to enrol a person's face from, and its job's progress. */
export default class VideoEnrolment extends VideoEnrolmentSchema {
  declare status: VideoEnrolmentStatus
  declare stage: VideoEnrolmentStage | null

  /** SQLite answers 0 or 1. */
  @column({ consume: (value: unknown) => Boolean(value) })
  declare cancelRequested: boolean

  /** bigint on PostgreSQL comes back as a string. */
  @column({ consume: (value: unknown) => Number(value) })
  declare sizeBytes: number

  @jsonColumn()
  declare best: BestFrame[] | null

  @jsonColumn()
  declare frames: ChosenFrame[] | null

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  get finished() {
    return finishedStatuses.includes(this.status)
  }
}
