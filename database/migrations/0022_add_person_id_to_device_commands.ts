import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'device_commands'

  /**
   * The person an `enrol` command enrols at the terminal; a command for a
   * person who is deleted goes with them.
   */
  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropForeign(['person_id'])
      table.dropColumn('person_id')
    })
  }
}
