import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'people'

  /**
   * The time of the latest access event that named the person among the
   * events retention has deleted, so that biometric retention still knows
   * the person was seen after their events are gone. Events still kept are
   * read from access_events.
   */
  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.timestamp('last_access_at').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('last_access_at')
    })
  }
}
