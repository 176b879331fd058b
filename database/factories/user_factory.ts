import factory from '@adonisjs/lucid/factories'
import { DateTime } from 'luxon'
import User from '#models/user'

export const UserFactory = factory
  .define(User, async ({ faker }) => {
    return {
      email: faker.internet.email().toLowerCase(),
      fullName: faker.person.fullName(),
      password: 'correct horse battery staple',
      role: 'operator' as const,
      locale: 'en' as const,
    }
  })
  .state('admin', (user) => (user.role = 'admin'))
  .state('auditor', (user) => (user.role = 'auditor'))
  .state('disabled', (user) => (user.disabledAt = DateTime.now()))
  .build()
