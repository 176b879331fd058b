/*
|--------------------------------------------------------------------------
| Bouncer policies
|--------------------------------------------------------------------------
*/
export const policies = {
  PersonPolicy: () => import('#policies/person_policy'),
  DevicePolicy: () => import('#policies/device_policy'),
  UserPolicy: () => import('#policies/user_policy'),
  AuditLogPolicy: () => import('#policies/audit_log_policy'),
  AccessGroupPolicy: () => import('#policies/access_group_policy'),
  AccessEventPolicy: () => import('#policies/access_event_policy'),
  SettingsPolicy: () => import('#policies/settings_policy'),
  EnrolmentReviewPolicy: () => import('#policies/enrolment_review_policy'),
  JobPolicy: () => import('#policies/job_policy'),
}
