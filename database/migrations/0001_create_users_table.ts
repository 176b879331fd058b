import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id').notNullable()
      table.string('email', 254).notNullable().unique()
      table.string('full_name', 120).notNullable()
      table.string('password').notNullable()
      table.string('role', 16).notNullable().defaultTo('operator')
      table.string('locale', 8).notNullable().defaultTo('en')
      table.timestamp('disabled_at').nullable()
      table.timestamp('last_sign_in_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
