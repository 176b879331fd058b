import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import Device from '#models/device'

export default class DeviceList extends BaseCommand {
  static commandName = 'device:list'
  static description = 'List the terminals known to this server'
  static options: CommandOptions = { startApp: true }

  async run() {
    const devices = await Device.query().orderBy('name', 'asc')
    if (devices.length === 0) {
      this.logger.info('No device has connected yet')
      return
    }
    const table = this.ui
      .table()
      .head(['Name', 'Serial', 'Status', 'Mode', 'Proof', 'May call', 'Last seen'])
    for (const device of devices) {
      table.row([
        device.name,
        device.serialNumber,
        device.status,
        device.mode,
        device.legacyMode
          ? `legacy from ${device.pinnedAddress}`
          : device.hasCredential
            ? 'signed'
            : 'none yet',
        device.allowed.join(', '),
        device.lastSeenAt?.toFormat('yyyy-MM-dd HH:mm:ss ZZZZ') ?? 'never',
      ])
    }
    table.render()
  }
}
