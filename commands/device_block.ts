import DeviceApprove from './device_approve.js'

export default class DeviceBlock extends DeviceApprove {
  static commandName = 'device:block'
  static description = 'Block a terminal until it is approved again'

  protected targetStatus = 'blocked' as const
}
