import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read and change access groups and schedules.
 */
export default class AccessGroupPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'operator', 'auditor']
  protected writers: UserRole[] = ['admin', 'operator']
}
