import { BaseSeeder } from '@adonisjs/lucid/seeders'
import { randomBytes } from 'node:crypto'
import User from '#models/user'

/**
 * Creates the first administrator when there is no operator yet, and prints
 * the sign-in once. The password comes from ADMIN_PASSWORD when set.
 */
export default class AdminSeeder extends BaseSeeder {
  async run() {
    if (await User.query().first()) return
    const email = process.env.ADMIN_EMAIL || 'admin@example.com'
    const password = process.env.ADMIN_PASSWORD || randomBytes(9).toString('base64url')
    await User.create({ email, fullName: 'Administrator', password, role: 'admin', locale: 'en' })
    console.log(
      `\n  First administrator created. Sign in with:\n    email:    ${email}\n    password: ${password}\n`
    )
  }
}
