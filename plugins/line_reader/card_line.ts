export type LineFormat = 'hex' | 'decimal' | 'wiegand26'
export type ByteOrder = 'msb' | 'lsb'

export type ParsedLine = { ok: true; uid: string } | { ok: false; reason: string }

function reverseBytes(hex: string) {
  return (hex.match(/../g) ?? []).reverse().join('')
}

/** Hex digits as whole bytes, in the order the card sends its UID. */
function orderedHex(hex: string, order: ByteOrder) {
  const even = hex.length % 2 === 0 ? hex : `0${hex}`
  return (order === 'lsb' ? reverseBytes(even) : even).toUpperCase()
}

/** A decimal card number as the 4-, 7- or 10-byte UID it stands for. */
function decimalToHex(digits: string) {
  const value = BigInt(digits)
  const bytes = value < 1n << 32n ? 4 : value < 1n << 56n ? 7 : 10
  if (value >= 1n << 80n) return null
  return value.toString(16).padStart(bytes * 2, '0')
}

/**
 * The 26 bits of a Wiegand-26 card: even parity over the first 12 data
 * bits, 8 bits of facility code, 16 bits of card number, odd parity over
 * the last 12. Readers send them as 26 binary digits or as a hex number.
 */
function wiegand26(line: string): ParsedLine {
  let bits: string
  if (/^[01]{26}$/.test(line)) bits = line
  else if (/^(?:0x)?[0-9a-f]{1,7}$/i.test(line)) {
    const value = Number.parseInt(line.replace(/^0x/i, ''), 16)
    if (value >= 2 ** 26) return { ok: false, reason: 'more than 26 bits' }
    bits = value.toString(2).padStart(26, '0')
  } else return { ok: false, reason: 'not 26 bits in binary or hex' }

  const ones = (from: number, to: number) =>
    [...bits.slice(from, to)].filter((bit) => bit === '1').length
  if ((ones(0, 13) & 1) !== 0) return { ok: false, reason: 'even parity error' }
  if ((ones(13, 26) & 1) !== 1) return { ok: false, reason: 'odd parity error' }
  const data = Number.parseInt(bits.slice(1, 25), 2)
  return { ok: true, uid: data.toString(16).padStart(6, '0').toUpperCase() }
}

/**
 * One line from a reader as the card number the people pages store:
 * uppercase hexadecimal without separators. `hex` takes the UID as
 * printed (separators allowed); `decimal` a UID printed as a decimal
 * number; `wiegand26` the raw 26 bits, giving the 24 data bits (facility
 * code, then card number) as six hex digits. `lsb` readers print the
 * UID's bytes last first.
 */
export function parseCardLine(raw: string, format: LineFormat, order: ByteOrder): ParsedLine {
  /** Framing some readers put around a number (STX/ETX, CR/LF, spaces) goes. */
  const line = [...raw].filter((char) => char > ' ').join('')
  if (line.length === 0) return { ok: false, reason: 'empty line' }
  if (format === 'wiegand26') return wiegand26(line)
  if (format === 'decimal') {
    if (!/^\d{1,25}$/.test(line)) return { ok: false, reason: 'not a decimal number' }
    const hex = decimalToHex(line)
    if (!hex) return { ok: false, reason: 'more than 10 bytes' }
    return { ok: true, uid: orderedHex(hex, order) }
  }
  const hex = line.replace(/[:-]/g, '')
  if (!/^[0-9a-f]{4,20}$/i.test(hex)) return { ok: false, reason: 'not 2 to 10 bytes in hex' }
  return { ok: true, uid: orderedHex(hex, order) }
}

/** What a reader of that format prints for `uid` (hex), for the simulator. */
export function formatCardLine(uid: string, format: LineFormat, order: ByteOrder) {
  const hex = order === 'lsb' ? reverseBytes(uid) : uid
  if (format === 'decimal') return BigInt(`0x${hex}`).toString(10).padStart(10, '0')
  if (format === 'wiegand26') {
    const data = Number.parseInt(uid, 16).toString(2).padStart(24, '0')
    const ones = (bits: string) => [...bits].filter((bit) => bit === '1').length
    const even = ones(data.slice(0, 12)) & 1
    const odd = 1 - (ones(data.slice(12)) & 1)
    return `${even}${data}${odd}`
  }
  return hex
}
