import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'faces'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id').notNullable()
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.binary('embedding').notNullable()
      table.string('engine', 64).notNullable()
      table.string('model_id', 64).notNullable()
      table.integer('dimension').notNullable()
      table.float('quality').nullable()
      table.string('source', 16).notNullable()
      table.string('image_path').nullable()
      table.text('box').nullable()
      table.text('landmarks').nullable()
      table.timestamp('created_at').notNullable()
      table.index(['person_id'])
      table.index(['model_id'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
