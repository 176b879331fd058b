import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read the audit log. Nobody changes it through the pages.
 */
export default class AuditLogPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'auditor']
  protected writers: UserRole[] = []
}
