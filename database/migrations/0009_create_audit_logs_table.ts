import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'audit_logs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id').notNullable()
      table
        .integer('user_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.string('actor', 254).notNullable()
      table.string('action', 64).notNullable()
      table.string('subject_type', 32).notNullable()
      table.string('subject_id', 64).nullable()
      table.string('subject_label', 254).nullable()
      table.text('before').nullable()
      table.text('after').nullable()
      table.string('ip_address', 64).nullable()
      table.timestamp('created_at').notNullable()
      table.index(['created_at'])
      table.index(['subject_type', 'subject_id'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
