import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { EnrolmentReviewSchema } from '#database/schema'
import Device from '#models/device'
import Person from '#models/person'
import type { FaceBox, Landmarks } from '#models/face'
import { jsonColumn } from '#models/json_column'

/**
 * `new_person`: a terminal created the person (already enrolled, in no
 * access group). `face_change`: a terminal sent a face for an existing
 * person that is held here, with a rename or not, until an operator
 * decides.
 */
export const enrolmentReviewKinds = ['new_person', 'face_change'] as const
export type EnrolmentReviewKind = (typeof enrolmentReviewKinds)[number]

/**
 * Why a terminal's enrolment waits for an operator: a new person; a face
 * that scored below the match threshold against the person's faces; a
 * person with no face to compare with (or no engine to compare); a face
 * that matches another enrolled person; a rename.
 */
export const enrolmentReviewReasons = [
  'new_person',
  'no_match',
  'no_faces',
  'duplicate',
  'rename',
] as const
export type EnrolmentReviewReason = (typeof enrolmentReviewReasons)[number]

export default class EnrolmentReview extends EnrolmentReviewSchema {
  declare kind: EnrolmentReviewKind

  @jsonColumn()
  declare reasons: EnrolmentReviewReason[]

  @jsonColumn()
  declare box: FaceBox | null

  @jsonColumn()
  declare landmarks: Landmarks | null

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  @belongsTo(() => Device)
  declare device: BelongsTo<typeof Device>
}
