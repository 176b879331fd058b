import { compose } from '@adonisjs/core/helpers'
import hash from '@adonisjs/core/services/hash'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { UserSchema } from '#database/schema'

export const userRoles = ['admin', 'operator', 'auditor'] as const
export type UserRole = (typeof userRoles)[number]

export const locales = ['en', 'zh'] as const
export type Locale = (typeof locales)[number]

const AuthFinder = withAuthFinder(() => hash.use('scrypt'), {
  uids: ['email'],
  passwordColumnName: 'password',
})

/**
 * An operator who signs in to the admin pages.
 */
export default class User extends compose(UserSchema, AuthFinder) {
  declare role: UserRole
  declare locale: Locale

  get isAdmin() {
    return this.role === 'admin'
  }

  get isDisabled() {
    return Boolean(this.disabledAt)
  }
}
