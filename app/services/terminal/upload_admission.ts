import Device from '#models/device'

/** What a terminal call shows of its device before its body is read. */
export type UploadCaller = {
  address: string
  /** The serial number of the X-Device-Serial header, for a signed call; null for an unsigned one. */
  signedBy: string | null
}

/**
 * Whether a terminal call's file parts are written to disk at all. They
 * are when the headers and the address name a device that could pass the
 * device gate: an approved device with a credential, for a signed call, or
 * an approved legacy device pinned to the caller's address, for an unsigned
 * one. Anyone else's parts are read and dropped, never stored: the gate
 * refuses those calls whatever they carry, so strangers cannot fill the
 * disk. Each condition is one the gate checks as well, so a call this lets
 * through may still be refused, never the other way round.
 */
export class UploadAdmission {
  async admits(caller: UploadCaller) {
    const query = Device.query().where('status', 'approved')
    if (caller.signedBy !== null) {
      query.where('serial_number', caller.signedBy).whereNotNull('credential_secret')
    } else {
      query.where('legacy_mode', true).where('pinned_address', caller.address)
    }
    return (await query.first()) !== null
  }
}
