import factory from '@adonisjs/lucid/factories'
import AccessGroup from '#models/access_group'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { ScheduleFactory } from '#database/factories/schedule_factory'

export const AccessGroupFactory = factory
  .define(AccessGroup, async ({ faker }) => {
    return {
      name: `${faker.company.buzzNoun()} ${faker.string.alphanumeric(6).toUpperCase()}`,
      description: faker.company.catchPhrase(),
    }
  })
  .relation('people', () => PersonFactory)
  .relation('devices', () => DeviceFactory)
  .relation('schedule', () => ScheduleFactory)
  .build()
