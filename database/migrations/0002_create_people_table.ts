import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'people'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id').notNullable()
      table.string('username', 64).notNullable().unique()
      table.string('display_name', 120).notNullable()
      table.string('card_number', 32).nullable().unique()
      table.string('department', 120).nullable()
      table.string('status', 16).notNullable().defaultTo('active')
      table.timestamp('valid_from').nullable()
      table.timestamp('valid_until').nullable()
      table.text('notes').nullable()
      table.timestamp('consent_given_at').nullable()
      table
        .integer('consent_recorded_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.string('consent_text_version', 32).nullable()
      table.bigInteger('revision').notNullable().defaultTo(0).index()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
