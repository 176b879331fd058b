import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'devices'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id').notNullable()
      table.string('name', 64).notNullable().unique()
      table.string('serial_number', 64).notNullable().unique()
      table.string('status', 16).notNullable().defaultTo('pending')
      table.string('mode', 16).notNullable().defaultTo('online')
      table.string('required_factors', 16).notNullable().defaultTo('face')
      table.string('site', 120).nullable()
      table.string('location', 120).nullable()
      table.timestamp('last_seen_at').nullable()
      table.string('last_seen_address', 64).nullable()
      table.string('firmware', 64).nullable()
      table.text('capabilities').nullable()
      table.text('config').nullable()
      table.bigInteger('sync_revision').notNullable().defaultTo(0)
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['status'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
