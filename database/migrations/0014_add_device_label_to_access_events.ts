import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'access_events'

  /**
   * The device's name and serial number as they were when the event was
   * recorded, so that an event still names its device after the device is
   * deleted (`device_id` then becomes NULL). Events recorded before this
   * column existed get their device's current name.
   */
  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('device_label', 160).nullable()
    })
    this.defer(async (db) => {
      await db.rawQuery(
        `update access_events set device_label = (
           select devices.name || ' (' || devices.serial_number || ')'
           from devices where devices.id = access_events.device_id
         ) where device_id is not null`
      )
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('device_label')
    })
  }
}
