import vine from '@vinejs/vine'

const id = () => vine.number().positive().withoutDecimals()

export const enrolmentReviewListValidator = vine.create({
  page: id().max(100000).optional(),
})

/** Approving a review: for a new person, the access group they join; empty for none. */
export const approveEnrolmentValidator = vine.create({
  groupId: id().nullable().optional(),
})
