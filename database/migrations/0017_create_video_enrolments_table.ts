import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'video_enrolments'

  /**
   * Enrolments from an uploaded video, run by a job: the upload waits in
   * `video_path` until the job ends (then it is deleted and the column
   * cleared), the counters and the best frames so far follow its progress,
   * and `frames` keeps, per chosen frame, the face it enrolled or why
   * FaceEnrolment refused it. A frame is recorded in the same transaction
   * as its face, so a job run again after a crash knows what is done.
   */
  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table
        .integer('operator_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.string('status', 16).notNullable().defaultTo('queued')
      table.string('stage', 16).nullable()
      table.string('original_name', 255).nullable()
      table.string('video_path', 500).nullable()
      table.bigInteger('size_bytes').notNullable().defaultTo(0)
      table.integer('duration_ms').nullable()
      table.integer('frames_read').notNullable().defaultTo(0)
      table.integer('frames_with_face').notNullable().defaultTo(0)
      table.integer('frames_several_faces').notNullable().defaultTo(0)
      table.integer('wanted_frames').notNullable().defaultTo(1)
      table.text('best').nullable()
      table.text('frames').nullable()
      table.string('reason_code', 32).nullable()
      table.text('reason').nullable()
      table.boolean('cancel_requested').notNullable().defaultTo(false)
      table.string('job_id', 64).nullable()
      table.timestamp('started_at').nullable()
      table.timestamp('finished_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['person_id', 'created_at'])
      table.index(['status'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
