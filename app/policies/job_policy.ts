import RolePolicy from '#policies/role_policy'
import type { UserRole } from '#models/user'

/**
 * Who may see the job queue and retry or remove failed jobs: jobs carry
 * people's data and run the site's retention, so administrators alone.
 */
export default class JobPolicy extends RolePolicy {
  protected readers: UserRole[] = ['admin']
  protected writers: UserRole[] = ['admin']
}
