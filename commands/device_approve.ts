import { inject } from '@adonisjs/core'
import { BaseCommand, args } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { commandLineActor } from '#services/audit_trail'
import { DeviceService } from '#services/device_service'

export default class DeviceApprove extends BaseCommand {
  static commandName = 'device:approve'
  static description = 'Approve a pending or blocked terminal'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'Serial number of the device, as "device:list" shows it' })
  declare serial: string

  @inject()
  async run(devices: DeviceService) {
    const device = await devices.findBySerial(this.serial)
    if (!device) {
      this.logger.error(`No device has the serial number "${this.serial}"`)
      this.exitCode = 1
      return
    }
    if (device.status === 'approved') {
      this.logger.info(`${device.name} (${device.serialNumber}) is already approved`)
      return
    }
    await devices.setStatus(commandLineActor(), device, 'approved')
    this.logger.success(`${device.name} (${device.serialNumber}) is now approved`)
  }
}
