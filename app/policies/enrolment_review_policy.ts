import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may read the enrolment reviews and who may decide them.
 */
export default class EnrolmentReviewPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin', 'operator', 'auditor']
  protected writers: UserRole[] = ['admin', 'operator']
}
