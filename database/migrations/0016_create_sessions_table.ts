import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'sessions'

  /**
   * Operators' sessions, kept by the server (SESSION_DRIVER=database): the
   * cookie holds only the id, so signing out, a new password or a disabled
   * account ends every copy of it. Each signed-in session names its
   * operator (`user_id`, as the session store writes it: text).
   */
  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 64).primary()
      table.text('data').notNullable()
      table.string('user_id', 32).nullable().index()
      table.timestamp('expires_at').notNullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
