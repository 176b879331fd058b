import { inject } from '@adonisjs/core'
import { BaseCommand, args } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { commandLineActor } from '#services/audit_trail'
import { DeviceService } from '#services/device_service'

export default class DeviceBlock extends BaseCommand {
  static commandName = 'device:block'
  static description = 'Block a terminal until it is approved again'
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
    const label = `${device.name} (${device.serialNumber})`
    if (device.status === 'blocked') {
      this.logger.info(`${label} is already blocked`)
      return
    }
    await devices.setStatus(commandLineActor(), device, 'blocked')
    this.logger.success(`${label} is now blocked`)
  }
}
