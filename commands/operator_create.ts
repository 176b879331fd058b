import { inject } from '@adonisjs/core'
import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { errors } from '@vinejs/vine'
import { userRoles } from '#models/user'
import { commandLineActor } from '#services/audit_trail'
import { OperatorService } from '#services/operator_service'
import { createOperatorValidator } from '#validators/operator_validator'

/**
 * Creates an operator account from the command line, for the first sign-in
 * or when nobody can sign in any more. Asks for what the flags leave out.
 */
export default class OperatorCreate extends BaseCommand {
  static commandName = 'operator:create'
  static description = 'Create an account that signs in to the admin pages'
  static help = [
    'Asks for the role and the password when they are not given as flags:',
    '  node ace operator:create ops@example.com',
    '  node ace operator:create ops@example.com --role=admin --password=... --name="Ops Team"',
  ]
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'Email address used to sign in' })
  declare email: string

  @flags.string({ description: `One of ${userRoles.join(', ')}` })
  declare role?: string

  @flags.string({ description: 'At least 12 characters; asked for when omitted' })
  declare password?: string

  @flags.string({ description: 'Full name; defaults to the part of the email before "@"' })
  declare name?: string

  #passwordConfirmation?: string

  async interact() {
    if (!this.role) {
      this.role = await this.prompt.choice('Role', userRoles, { default: 'operator' })
    }
    if (!this.password) {
      this.password = await this.prompt.secure('Password (at least 12 characters)')
      this.#passwordConfirmation = await this.prompt.secure('Repeat the password')
    }
  }

  @inject()
  async run(operators: OperatorService) {
    const [error, input] = await createOperatorValidator.tryValidate({
      email: this.email,
      fullName: this.name ?? this.email.split('@')[0],
      role: this.role,
      locale: 'en',
      password: this.password,
      password_confirmation: this.#passwordConfirmation ?? this.password,
    })
    if (error instanceof errors.E_VALIDATION_ERROR) {
      for (const { message } of error.messages as { message: string }[]) {
        this.logger.error(message)
      }
      this.exitCode = 1
      return
    }
    if (error) throw error

    const result = await operators.create(commandLineActor(), input)
    if (!result.ok) {
      this.logger.error(`An account with the email ${input.email} already exists`)
      this.exitCode = 1
      return
    }
    this.logger.success(`Created ${result.user.role} ${result.user.email}`)
  }
}
