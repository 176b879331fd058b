import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'access_events'

  /**
   * The id a terminal gives its own report (clinetFeedback `eventId`), so
   * that a report retried after a lost answer is recorded once per device.
   */
  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('terminal_event_id', 64).nullable()
      table.unique(['device_id', 'terminal_event_id'])
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropUnique(['device_id', 'terminal_event_id'])
      table.dropColumn('terminal_event_id')
    })
  }
}
