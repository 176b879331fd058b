import factory from '@adonisjs/lucid/factories'
import { DateTime } from 'luxon'
import Person from '#models/person'

export const PersonFactory = factory
  .define(Person, async ({ faker }) => {
    return {
      username:
        faker.internet
          .username()
          .replace(/[^\w.@-]/g, '')
          .toLowerCase() + faker.string.numeric(4),
      displayName: faker.person.fullName(),
      department: faker.commerce.department(),
      status: 'active' as const,
    }
  })
  .state('suspended', (person) => (person.status = 'suspended'))
  .state('expired', (person) => (person.validUntil = DateTime.now().minus({ days: 1 })))
  .state('consented', (person) => {
    person.consentGivenAt = DateTime.now().minus({ days: 30 }).startOf('second')
    person.consentTextVersion = 'v1'
  })
  .state(
    'withCard',
    (person, { faker }) =>
      (person.cardNumber = faker.string.hexadecimal({ length: 8, prefix: '' }).toUpperCase())
  )
  .build()
