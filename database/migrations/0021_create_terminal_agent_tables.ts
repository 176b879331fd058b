import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    /**
     * A terminal asking to be paired: it keeps a random key and polls with
     * it; the server keeps only the key's SHA-256 and the 6-digit code shown
     * on the terminal's screen, which the operator types to approve it. The
     * credential issued to an approved request waits here, encrypted with
     * APP_KEY, until the terminal collects it, then is deleted.
     */
    this.schema.createTable('device_pairings', (table) => {
      table.increments('id').notNullable()
      table
        .integer('device_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('devices')
        .onDelete('CASCADE')
      table.string('key_hash', 64).notNullable().unique()
      table.string('code', 6).notNullable()
      table.string('address', 64).notNullable()
      /** waiting, approved, delivered or refused; a waiting request past its time has expired. */
      table.string('state', 16).notNullable()
      table.text('credential_secret').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('decided_at').nullable()
      table.timestamp('delivered_at').nullable()
      table.index(['device_id', 'state'])
      table.index(['created_at'])
    })

    /**
     * The latest heartbeat of each terminal agent: its state as it reported
     * it (JSON) and when it arrived.
     */
    this.schema.createTable('device_heartbeats', (table) => {
      table
        .integer('device_id')
        .unsigned()
        .primary()
        .references('id')
        .inTable('devices')
        .onDelete('CASCADE')
      table.text('state').notNullable()
      table.timestamp('received_at').notNullable()
    })

    /**
     * Commands operators gave a terminal agent (open the door, sync now,
     * restart), sent with its syncEvents and heartbeat answers from
     * `delivered_at` on until it reports them done or they expire.
     */
    this.schema.createTable('device_commands', (table) => {
      table.increments('id').notNullable()
      table
        .integer('device_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('devices')
        .onDelete('CASCADE')
      table.string('type', 16).notNullable()
      table
        .integer('issued_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.timestamp('issued_at').notNullable()
      table.timestamp('delivered_at').nullable()
      table.timestamp('done_at').nullable()
      table.index(['device_id', 'done_at', 'issued_at'])
    })
  }

  async down() {
    this.schema.dropTable('device_commands')
    this.schema.dropTable('device_heartbeats')
    this.schema.dropTable('device_pairings')
  }
}
