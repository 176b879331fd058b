import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read and change devices.
 */
export default class DevicePolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'operator', 'auditor']
  protected writers: UserRole[] = ['admin', 'operator']
}
