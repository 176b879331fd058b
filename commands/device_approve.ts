import { inject } from '@adonisjs/core'
import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type Device from '#models/device'
import { devicePermissions, type DevicePermission } from '#models/device'
import { commandLineActor } from '#services/audit_trail'
import { DevicePairingService } from '#services/device_pairing_service'
import { DeviceService } from '#services/device_service'

/**
 * Approves a terminal and prints the credential it signs its calls with,
 * shown this once. Installers' scripts use the flags: keep them stable.
 */
export default class DeviceApprove extends BaseCommand {
  static commandName = 'device:approve'
  static description = 'Approve a pending or blocked terminal and print its credential'
  static help = [
    'A device that signs its calls gets a credential, printed once:',
    '  node ace device:approve FT2024A00017',
    'A terminal agent waiting to pair shows a 6-digit code on its screen; the credential',
    'then goes to the terminal that shows it, not to the screen:',
    '  node ace device:approve FT2024A00017 --pairing-code=482913',
    'Firmware that sends only its name and serial number runs in legacy mode, pinned',
    'to the address it last called from (or --address), with exactly what --allow lists:',
    '  node ace device:approve FT2024A00017 --legacy --allow=recognition,database,feedback',
    `Permissions: ${devicePermissions.join(', ')}. Without --allow: recognition, database, feedback.`,
  ]
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'Serial number of the device, as "device:list" shows it' })
  declare serial: string

  @flags.boolean({ description: 'Legacy mode: unsigned calls, pinned to one address' })
  declare legacy: boolean

  @flags.string({ description: `What the device may call: ${devicePermissions.join(',')}` })
  declare allow?: string

  @flags.string({ description: 'The address a legacy device is pinned to (default: its last)' })
  declare address?: string

  @flags.string({ description: 'The code a pairing terminal agent shows on its screen' })
  declare pairingCode?: string

  @inject()
  async run(devices: DeviceService, pairing: DevicePairingService) {
    const permissions = this.#permissions()
    if (permissions === null) return
    const device = await devices.findBySerial(this.serial)
    if (!device) {
      this.logger.error(`No device has the serial number "${this.serial}"`)
      this.exitCode = 1
      return
    }
    const label = `${device.name} (${device.serialNumber})`
    if (this.pairingCode !== undefined) return this.#pair(pairing, device, label)
    const access =
      this.legacy || this.allow !== undefined || this.address !== undefined
        ? {
            permissions: permissions ?? device.allowed,
            legacyMode: this.legacy || (device.legacyMode && this.address !== undefined),
            pinnedAddress: this.address ?? null,
          }
        : undefined
    const result = await devices.approve(commandLineActor(), device, access)
    if (!result.ok) {
      this.logger.error(
        `${label} has never called, so there is no address to pin it to; give one with --address`
      )
      this.exitCode = 1
      return
    }
    this.logger.success(
      `${label} is approved; it may call: ${device.allowed.join(', ') || 'nothing'}`
    )
    if (device.legacyMode) {
      this.logger.info(`Legacy mode: unsigned calls are accepted only from ${device.pinnedAddress}`)
    }
    if (result.secret) {
      this.logger.info('Its credential, shown only now (enter it on the terminal):')
      this.logger.log(result.secret)
    } else if (!device.legacyMode) {
      this.logger.info('It keeps the credential it already had (rotate it on its page)')
    }
  }

  async #pair(pairing: DevicePairingService, device: Device, label: string) {
    if (this.legacy || this.allow !== undefined || this.address !== undefined) {
      this.logger.error(
        '--pairing-code pairs a terminal agent: it takes no --legacy, --allow or --address'
      )
      this.exitCode = 1
      return
    }
    const code = this.pairingCode!.trim()
    const result = /^[0-9]{6}$/.test(code)
      ? await pairing.approve(commandLineActor(), device, code)
      : ({ ok: false, error: { type: 'wrong_code' } } as const)
    if (!result.ok) {
      const reasons = {
        wrong_code: `No pairing request of ${label} waiting shows code "${code}" (six digits, as the terminal shows them; requests expire)`,
        ambiguous_code: `Several pairing requests of ${label} show code ${code}: refuse them on the device's page and let the terminal ask again`,
        blocked: `${label} is blocked: approve it first`,
      }
      this.logger.error(reasons[result.error.type])
      this.exitCode = 1
      return
    }
    this.logger.success(
      `${label} is approved and paired; the terminal receives its credential with its next call`
    )
    if (result.refused > 0) this.logger.info(`${result.refused} other pairing request(s) refused`)
  }

  /** The --allow list, checked; undefined keeps the device's own. */
  #permissions(): DevicePermission[] | undefined | null {
    if (this.allow === undefined) return undefined
    const names = this.allow
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
    const unknown = names.filter((name) => !devicePermissions.includes(name as DevicePermission))
    if (unknown.length > 0) {
      this.logger.error(
        `Unknown permission ${unknown.join(', ')}; use ${devicePermissions.join(', ')}`
      )
      this.exitCode = 1
      return null
    }
    return names as DevicePermission[]
  }
}
