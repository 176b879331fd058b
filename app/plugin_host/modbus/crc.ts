const table = new Uint16Array(256).map((_, index) => {
  let crc = index
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1
  return crc
})

/**
 * The CRC-16 that ends every Modbus RTU frame (polynomial 0xA001
 * reflected, initial 0xFFFF), sent low byte first.
 */
export function modbusCrc(bytes: Uint8Array) {
  let crc = 0xffff
  for (const byte of bytes) crc = (crc >>> 8) ^ table[(crc ^ byte) & 0xff]
  return crc
}
