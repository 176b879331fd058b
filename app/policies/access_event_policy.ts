import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read and change access events (and opening doors).
 */
export default class AccessEventPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'operator', 'auditor']
  protected writers: UserRole[] = ['admin', 'operator']
}
