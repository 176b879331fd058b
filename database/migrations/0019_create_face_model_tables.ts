import { BaseSchema } from '@adonisjs/lucid/schema'
import { toSqlDateTime } from '#services/sql_time'

export default class extends BaseSchema {
  /**
   * `face_model_state` (one row) records the recognition model the stored
   * faces' features are in, which the server embeds with until a
   * re-embedding job has staged every face's feature of the newly
   * configured model in `face_features` and switched them over at once.
   * A staged row without an embedding is a face whose photo could not
   * give one (`failure` says why), listed for re-enrolment.
   */
  async up() {
    this.schema.createTable('face_model_state', (table) => {
      table.integer('id').primary()
      table.string('model_in_force', 64).nullable()
      table.string('configured_model', 64).nullable()
      table.string('target_model', 64).nullable()
      table.integer('generation').notNullable().defaultTo(0)
      table.timestamp('started_at').nullable()
      table.timestamp('switched_at').nullable()
      table.text('last_error').nullable()
      table.timestamp('updated_at').notNullable()
    })

    this.schema.createTable('face_features', (table) => {
      table.increments('id').notNullable()
      table
        .integer('face_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('faces')
        .onDelete('CASCADE')
      table.string('model_id', 64).notNullable()
      table.binary('embedding').nullable()
      table.integer('dimension').nullable()
      table.string('failure', 255).nullable()
      table.timestamp('created_at').notNullable()
      table.unique(['face_id', 'model_id'])
      table.index(['model_id'])
    })

    this.defer(async (db) => {
      const [common] = await db
        .from('faces')
        .select('model_id')
        .count('* as total')
        .groupBy('model_id')
        .orderBy('total', 'desc')
        .limit(1)
      await db.table('face_model_state').insert({
        id: 1,
        model_in_force: common?.model_id ?? null,
        generation: 0,
        updated_at: toSqlDateTime(),
      })
    })
  }

  async down() {
    this.schema.dropTable('face_features')
    this.schema.dropTable('face_model_state')
  }
}
