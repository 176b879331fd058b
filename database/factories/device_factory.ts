import factory from '@adonisjs/lucid/factories'
import Device from '#models/device'

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
  .state('approved', (device) => (device.status = 'approved'))
  .state('blocked', (device) => (device.status = 'blocked'))
  .build()
