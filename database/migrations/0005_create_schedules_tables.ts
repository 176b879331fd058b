import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    this.schema.createTable('schedules', (table) => {
      table.increments('id').notNullable()
      table.string('name', 120).notNullable().unique()
      table.string('description').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })

    /**
     * Weekly windows: weekday 1 (Monday) to 7 (Sunday), minutes since
     * midnight in the site's time zone, end exclusive.
     */
    this.schema.createTable('schedule_windows', (table) => {
      table.increments('id').notNullable()
      table
        .integer('schedule_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('schedules')
        .onDelete('CASCADE')
      table.integer('weekday').notNullable()
      table.integer('starts_at_minute').notNullable()
      table.integer('ends_at_minute').notNullable()
      table.index(['schedule_id'])
    })

    this.schema.createTable('holidays', (table) => {
      table.increments('id').notNullable()
      table
        .integer('schedule_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('schedules')
        .onDelete('CASCADE')
      table.date('date').notNullable()
      table.string('name', 120).notNullable()
      table.unique(['schedule_id', 'date'])
    })
  }

  async down() {
    this.schema.dropTable('holidays')
    this.schema.dropTable('schedule_windows')
    this.schema.dropTable('schedules')
  }
}
