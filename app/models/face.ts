import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { FaceSchema } from '#database/schema'
import Person from '#models/person'
import { jsonColumn } from '#models/json_column'

export const faceSources = ['photo', 'video', 'terminal', 'webcam', 'api'] as const
export type FaceSource = (typeof faceSources)[number]

export type FaceBox = { left: number; top: number; right: number; bottom: number }
export type Landmarks = [number, number][]

/**
 * One face template of a person: the embedding made by an engine's model,
 * and where it came from.
 */
export default class Face extends FaceSchema {
  declare source: FaceSource

  @jsonColumn()
  declare box: FaceBox | null

  @jsonColumn()
  declare landmarks: Landmarks | null

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>
}
