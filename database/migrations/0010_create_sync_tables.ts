import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    /**
     * Monotonic counters. "face_db" is bumped by every change to what a
     * device may see (people, faces, groups, schedules, device grants).
     */
    this.schema.createTable('revision_counters', (table) => {
      table.string('name', 32).primary()
      table.bigInteger('value').notNullable().defaultTo(0)
    })

    /**
     * People removed from the face database, kept so that an incremental
     * device sync can tell terminals what to delete.
     */
    this.schema.createTable('face_db_tombstones', (table) => {
      table.bigIncrements('id').notNullable()
      table.string('username', 64).notNullable()
      table.bigInteger('revision').notNullable().index()
      table.timestamp('created_at').notNullable()
    })

    this.defer(async (db) => {
      await db.table('revision_counters').insert({ name: 'face_db', value: 0 })
    })
  }

  async down() {
    this.schema.dropTable('face_db_tombstones')
    this.schema.dropTable('revision_counters')
  }
}
