import { BaseSeeder } from '@adonisjs/lucid/seeders'
import app from '@adonisjs/core/services/app'
import { FsLoader, Kernel } from '@adonisjs/core/ace'
import { randomBytes } from 'node:crypto'
import User from '#models/user'

/**
 * Creates the first administrator when there is none, through
 * "operator:create" so that it is validated and audited like any other
 * account. In a terminal it asks for the password; otherwise it uses
 * ADMIN_PASSWORD or a random one, printed once.
 */
export default class AdminSeeder extends BaseSeeder {
  async run() {
    if (await User.query().where('role', 'admin').first()) return

    const email = process.env.ADMIN_EMAIL || 'admin@example.com'
    const ask = process.stdin.isTTY && !process.env.ADMIN_PASSWORD
    const password = ask
      ? undefined
      : process.env.ADMIN_PASSWORD || randomBytes(9).toString('base64url')

    if (ask) console.log(`\n  No administrator yet. Choose a password for ${email}:`)
    /**
     * A kernel of its own: the one running "db:seed" loaded only the
     * commands it needed, not those in commands/.
     */
    const ace = new Kernel(app)
    ace.addLoader(new FsLoader(app.commandsPath()))
    const argv = [email, '--role=admin', '--name=Administrator']
    if (password) argv.push(`--password=${password}`)
    let command = await ace.exec('operator:create', argv)
    for (let retry = 0; ask && command.exitCode !== 0 && retry < 2; retry++) {
      command = await ace.exec('operator:create', argv)
    }
    if (command.exitCode !== 0) throw new Error(`Could not create the administrator ${email}`)

    console.log(
      password
        ? `\n  First administrator created. Sign in with:\n    email:    ${email}\n    password: ${password}\n`
        : `\n  First administrator created. Sign in as ${email} with the password you chose.\n`
    )
  }
}
