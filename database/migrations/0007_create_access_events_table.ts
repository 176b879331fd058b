import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'access_events'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id').notNullable()
      table
        .integer('device_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('devices')
        .onDelete('SET NULL')
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('SET NULL')
      table.string('reported_name', 120).nullable()
      table.float('score').nullable()
      table.string('decision', 16).notNullable()
      table.string('reason', 32).notNullable()
      table.string('method', 16).notNullable().defaultTo('face')
      table.string('snapshot_path').nullable()
      table.timestamp('occurred_at').notNullable()
      table.timestamp('received_at').notNullable()
      table.index(['occurred_at'])
      table.index(['device_id', 'occurred_at'])
      table.index(['person_id', 'occurred_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
