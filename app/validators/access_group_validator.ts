import vine from '@vinejs/vine'
import type { I18n } from '@adonisjs/i18n'
import { listFiltersValidator, pageNumber } from '#validators/list_filters'

/** Field names and messages of the group form, from resources/lang/<locale>/access_groups.json. */
export const accessGroupMessages = (i18n: I18n) => ({
  messagesProvider: i18n.createMessagesProvider('access_groups.validator'),
})

const id = () => vine.number().positive().withoutDecimals()

export const accessGroupValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(120),
  description: vine.string().trim().maxLength(255).optional(),
  scheduleId: id().optional(),
})

/**
 * The group page: `q` searches people to add and `matches` pages through
 * them, `page` pages through the members.
 */
export const accessGroupPageValidator = listFiltersValidator({
  q: vine.string().trim().maxLength(120).optional(),
  page: pageNumber().optional(),
  matches: pageNumber().optional(),
})

export const accessGroupListValidator = vine.create({
  page: id().max(100000).optional(),
})

export const groupDeviceValidator = vine.create({
  deviceId: id(),
})

/** Several people added at once: those ticked in a search, or everyone of a department. */
export const groupPeopleValidator = vine.create({
  personIds: vine.array(id()).maxLength(100).optional(),
  department: vine.string().trim().minLength(1).maxLength(120).optional(),
})
