import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    this.schema.createTable('access_groups', (table) => {
      table.increments('id').notNullable()
      table.string('name', 120).notNullable().unique()
      table.string('description').nullable()
      table
        .integer('schedule_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('schedules')
        .onDelete('SET NULL')
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })

    this.schema.createTable('access_group_people', (table) => {
      table
        .integer('access_group_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_groups')
        .onDelete('CASCADE')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.primary(['access_group_id', 'person_id'])
      table.index(['person_id'])
    })

    this.schema.createTable('access_group_devices', (table) => {
      table
        .integer('access_group_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_groups')
        .onDelete('CASCADE')
      table
        .integer('device_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('devices')
        .onDelete('CASCADE')
      table.primary(['access_group_id', 'device_id'])
      table.index(['device_id'])
    })
  }

  async down() {
    this.schema.dropTable('access_group_devices')
    this.schema.dropTable('access_group_people')
    this.schema.dropTable('access_groups')
  }
}
