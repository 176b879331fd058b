import type User from '#models/user'
import { BasePolicy } from '@adonisjs/bouncer'
import type { UserRole } from '#models/user'

/**
 * Base for policies that decide by role: who may read, who may change.
 */
export default abstract class RolePolicy extends BasePolicy {
  protected abstract readers: UserRole[]
  protected abstract writers: UserRole[]

  protected allowed(user: User, roles: UserRole[]) {
    return !user.disabledAt && roles.includes(user.role)
  }

  view(user: User) {
    return this.allowed(user, this.readers)
  }

  manage(user: User) {
    return this.allowed(user, this.writers)
  }
}
