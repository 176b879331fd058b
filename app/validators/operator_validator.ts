import vine from '@vinejs/vine'
import { locales, userRoles } from '#models/user'

/**
 * Stored lowercased: sign-in lowercases what is typed before looking the
 * account up.
 */
const email = () => vine.string().trim().toLowerCase().email().maxLength(254)

const fullName = () => vine.string().trim().minLength(1).maxLength(120)

/**
 * The confirmation keeps the default `password_confirmation` name: the
 * session never flashes fields of that name back as old input.
 */
const password = () => vine.string().minLength(12).maxLength(256).confirmed()

const operatorFields = {
  email: email(),
  fullName: fullName(),
  role: vine.enum(userRoles),
  locale: vine.enum(locales),
}

export const createOperatorValidator = vine.create({
  ...operatorFields,
  password: password(),
})

/**
 * A blank password keeps the current one. An unticked `disabled` box is not
 * sent at all, so its absence means enabled.
 */
export const updateOperatorValidator = vine.create({
  ...operatorFields,
  password: password().optional(),
  disabled: vine.boolean().optional(),
})
