import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read and change settings and plugins.
 */
export default class SettingsPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'auditor']
  protected writers: UserRole[] = ['admin']
}
