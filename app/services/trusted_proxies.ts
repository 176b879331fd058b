import { BlockList, isIP } from 'node:net'

/**
 * Which peers may tell the server who the client is. Behind a reverse proxy
 * every request comes from the proxy's address; only a request from one of
 * the listed addresses has its `X-Forwarded-For` and `X-Forwarded-Proto`
 * believed, so that sign-in throttling, device address pinning and the
 * audit log see each client's own address, and nobody else can claim one
 * by sending the header. The list holds addresses and subnets
 * (`127.0.0.1, ::1, 10.0.0.0/24`); empty trusts nobody.
 *
 * Returns the function Adonis's `http.trustProxy` takes (as proxy-addr
 * calls it: the address of each hop, nearest first).
 */
export function trustedProxies(list: string | undefined) {
  const trusted = new BlockList()
  const entries = (list ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)

  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? undefined : Number(prefix)
    const maxBits = family === 4 ? 32 : 128
    if (
      family === 0 ||
      rest.length > 0 ||
      (prefix !== undefined && !(/^\d+$/.test(prefix) && bits! <= maxBits))
    ) {
      throw new Error(
        `TRUSTED_PROXIES: "${entry}" is not an IP address or a subnet (such as 10.0.0.0/24); list the reverse proxies' addresses, separated by commas`
      )
    }
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) trusted.addAddress(address, type)
    else trusted.addSubnet(address, bits, type)
  }

  return (address: string | undefined) => {
    if (!address || entries.length === 0) return false
    const plain = unmapped(address)
    const family = isIP(plain)
    return family !== 0 && trusted.check(plain, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/**
 * A server listening on every interface sees IPv4 peers as IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.2`); they are listed as plain IPv4.
 */
function unmapped(address: string) {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped ? mapped[1] : address
}
