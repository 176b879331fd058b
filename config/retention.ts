import env from '#start/env'

/**
 * How long the site keeps what it records, in days; the nightly jobs in
 * config/queue.ts apply it and the Settings page shows it.
 */
const retentionConfig = {
  /** Access events are deleted, with their snapshots, once this old. */
  eventDays: env.get('EVENT_RETENTION_DAYS', 365),
  /**
   * Event snapshots (photos of whoever stood at the terminal) are deleted
   * once this old; the event itself stays until `eventDays`.
   */
  snapshotDays: env.get('SNAPSHOT_RETENTION_DAYS', 90),
  /**
   * A person's faces, enrolment photos and faces held for review are
   * erased once the person has been inactive this long: no access event
   * names them, no face was enrolled or sent for them, and their record
   * was neither created nor changed. 1095 days is the three years the
   * Illinois Biometric Information Privacy Act allows at most.
   */
  biometricDays: env.get('BIOMETRIC_RETENTION_DAYS', 1095),
}

export default retentionConfig
export type RetentionConfig = typeof retentionConfig
