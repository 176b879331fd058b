import factory from '@adonisjs/lucid/factories'
import { DateTime } from 'luxon'
import Device from '#models/device'
import { DeviceCredentials } from '#services/device_credentials'

export const DeviceFactory = factory
  .define(Device, async ({ faker }) => {
    return {
      name: `Gate ${faker.string.alphanumeric(6).toUpperCase()}`,
      serialNumber: faker.string.alphanumeric(16).toUpperCase(),
      status: 'pending' as const,
      mode: 'online' as const,
      requiredFactors: 'face' as const,
      location: faker.location.street(),
    }
  })
  /** Approved with a credential of its own, as the Devices page approves. */
  .state('approved', (device) => {
    device.status = 'approved'
    device.credentialSecret = DeviceCredentials.seal(DeviceCredentials.generate())
    device.credentialIssuedAt = DateTime.now()
  })
  .state('blocked', (device) => (device.status = 'blocked'))
  /** Legacy mode, pinned to the address tests call from. */
  .state('legacy', (device) => {
    device.legacyMode = true
    device.pinnedAddress = '127.0.0.1'
  })
  /** Allowed to enrol, showing consent text version `terminal-v1` before it does. */
  .state('enrolling', (device) => {
    device.permissions = ['recognition', 'database', 'feedback', 'enrolment']
    device.config = { ...device.config, enrolmentConsentVersion: 'terminal-v1' }
  })
  .build()
