import vine from '@vinejs/vine'
import { locales } from '#models/user'

export const localeValidator = vine.create({
  locale: vine.enum(locales),
})

/**
 * The new password keeps the default `password` and `password_confirmation`
 * names, which the session never flashes back as old input; the form is
 * shown again without what was typed in the others either.
 */
export const changePasswordValidator = vine.create({
  currentPassword: vine.string().minLength(1).maxLength(256),
  password: vine.string().minLength(12).maxLength(256).confirmed(),
})
