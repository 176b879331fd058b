import app from '@adonisjs/core/services/app'
import { RetentionService } from '#services/retention_service'

/**
 * Erases the biometric data of people inactive past the biometric
 * retention. Idempotent: a person already erased holds nothing more to
 * erase, and each erasure checks the person is still inactive.
 */
export default class EraseInactiveBiometricsJob {
  static jobName = 'erase-inactive-biometrics'

  async handle(payload: { inactiveDays: number }) {
    const retention = await app.container.make(RetentionService)
    return { erased: await retention.eraseInactive(payload.inactiveDays) }
  }
}
