import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    /**
     * Where each device stands: the face-database revision it says it
     * holds (syncEvents or getDbs `since`), and how many people entries it
     * would receive or drop to catch up, as the sync job last counted.
     */
    this.schema.createTable('device_sync_states', (table) => {
      table
        .integer('device_id')
        .unsigned()
        .primary()
        .references('id')
        .inTable('devices')
        .onDelete('CASCADE')
      table.bigInteger('acknowledged_revision').nullable()
      table.timestamp('acknowledged_at').nullable()
      table.integer('pending_changes').notNullable().defaultTo(0)
      /** Since when the device has had changes pending without a break; null when it has none. */
      table.timestamp('behind_since').nullable()
      table.timestamp('updated_at').notNullable()
    })

    /**
     * Which access groups each changed person concerned (before and after
     * the change), at the revision of the change: a device's pending
     * changes are those of its groups past the revision it acknowledged.
     * Rows every device has acknowledged are pruned.
     */
    this.schema.createTable('device_sync_changes', (table) => {
      table.bigIncrements('id').notNullable()
      table.bigInteger('revision').notNullable()
      table.integer('person_id').notNullable()
      table.string('username', 64).notNullable()
      table.integer('access_group_id').notNullable()
      table.index(['access_group_id', 'revision'])
      table.index(['revision'])
    })

    /**
     * The groups each person was in when the sync job last looked, so that
     * leaving a group still concerns that group's devices. No foreign keys:
     * the rows outlive deleted people and groups until the job reads them.
     */
    this.schema.createTable('device_sync_memberships', (table) => {
      table.integer('person_id').notNullable()
      table.integer('access_group_id').notNullable()
      table.primary(['person_id', 'access_group_id'])
    })

    this.defer(async (db) => {
      await db.rawQuery(
        'insert into device_sync_memberships (person_id, access_group_id) select person_id, access_group_id from access_group_people'
      )
      const current = await db.from('revision_counters').where('name', 'face_db').first()
      await db
        .table('revision_counters')
        .insert({ name: 'device_sync', value: current?.value ?? 0 })
    })
  }

  async down() {
    this.defer(async (db) => {
      await db.from('revision_counters').where('name', 'device_sync').delete()
    })
    this.schema.dropTable('device_sync_memberships')
    this.schema.dropTable('device_sync_changes')
    this.schema.dropTable('device_sync_states')
  }
}
