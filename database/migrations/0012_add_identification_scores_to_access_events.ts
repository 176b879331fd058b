import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'access_events'

  /**
   * What a 1:N decision stood on: the next person's score beside the best
   * one (`score`), and the threshold in force for the gallery's size then.
   */
  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.float('runner_up_score').nullable()
      table.float('threshold').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('runner_up_score')
      table.dropColumn('threshold')
    })
  }
}
