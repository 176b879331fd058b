import vine from '@vinejs/vine'
import { locales } from '#models/user'

export const localeValidator = vine.create({
  locale: vine.enum(locales),
})
