import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    /**
     * How a terminal proves who it is. `credential_secret` is the HMAC key of
     * signed calls, encrypted with APP_KEY; a legacy device (firmware that
     * sends only name and serial number) is pinned to one address instead.
     * `permissions` lists the endpoint groups the device may call.
     */
    this.schema.alterTable('devices', (table) => {
      table.text('credential_secret').nullable()
      table.timestamp('credential_issued_at').nullable()
      table.boolean('legacy_mode').notNullable().defaultTo(false)
      table.string('pinned_address', 64).nullable()
      table.text('permissions').nullable()
      table.string('registered_address', 64).nullable()
      table.index(['status', 'registered_address'])
    })

    /**
     * Devices approved before credentials existed keep working as legacy
     * devices pinned to the address they last called from, allowed what
     * new devices are (enrolment is off until an operator turns it on).
     * Those that never called need a credential from an operator.
     */
    this.defer(async (db) => {
      await db
        .from('devices')
        .where('status', 'approved')
        .whereNotNull('last_seen_address')
        .update({ legacy_mode: true, pinned_address: db.raw('last_seen_address') })
    })

    /**
     * Enrolments from terminals that wait for an operator: a face that does
     * not match the person it was sent for, a rename, or a person a terminal
     * created (who joins no access group until approved). A held face keeps
     * everything its face row will need; nothing of it is in `faces` yet.
     */
    this.schema.createTable('enrolment_reviews', (table) => {
      table.increments('id').notNullable()
      table.string('kind', 16).notNullable()
      table
        .integer('device_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('devices')
        .onDelete('SET NULL')
      table.string('device_label', 160).notNullable()
      table.string('address', 64).nullable()
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('username', 64).notNullable()
      table.string('requested_name', 120).notNullable()
      table.text('reasons').notNullable()
      table.float('score').nullable()
      table
        .integer('face_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('faces')
        .onDelete('CASCADE')
      table.binary('embedding').nullable()
      table.string('engine', 64).nullable()
      table.string('model_id', 64).nullable()
      table.integer('dimension').nullable()
      table.float('quality').nullable()
      table.string('image_path').nullable()
      table.text('box').nullable()
      table.text('landmarks').nullable()
      table.timestamp('created_at').notNullable()
      table.index(['person_id'])
    })
  }

  async down() {
    this.schema.dropTable('enrolment_reviews')
    this.schema.alterTable('devices', (table) => {
      table.dropIndex(['status', 'registered_address'])
      table.dropColumn('credential_secret')
      table.dropColumn('credential_issued_at')
      table.dropColumn('legacy_mode')
      table.dropColumn('pinned_address')
      table.dropColumn('permissions')
      table.dropColumn('registered_address')
    })
  }
}
