import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read and change operator accounts.
 */
export default class UserPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin']
  protected writers: UserRole[] = ['admin']
}
