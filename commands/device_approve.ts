import { inject } from '@adonisjs/core'
import { BaseCommand, args } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type { DeviceStatus } from '#models/device'
import { commandLineActor } from '#services/audit_trail'
import { DeviceService } from '#services/device_service'

/**
 * Approves a terminal. `device:block` is the same command with the other
 * status.
 */
export default class DeviceApprove extends BaseCommand {
  static commandName = 'device:approve'
  static description = 'Approve a pending or blocked terminal'
  static options: CommandOptions = { startApp: true }

  protected targetStatus: Exclude<DeviceStatus, 'pending'> = 'approved'

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
    if (device.status === this.targetStatus) {
      this.logger.info(`${label} is already ${this.targetStatus}`)
      return
    }
    await devices.setStatus(commandLineActor(), device, this.targetStatus)
    this.logger.success(`${label} is now ${this.targetStatus}`)
  }
}
