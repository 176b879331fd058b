/**
 * node --import=@poppinss/ts-exec bench/terminal_protocol.ts \
 *   --url=http://127.0.0.1:3333 --name='Bench gate' --sn=BENCH-1 [--seconds=10] [--concurrency=32]
 *
 * Load on a running server from one approved device: token requests alone,
 * then token + getDbs pairs (the getDbs answer is whatever the device may
 * admit). Prints a table of requests per second and latency percentiles.
 * Start the server with DEVICE_TOKEN_RATE_PER_DEVICE and
 * DEVICE_TOKEN_RATE_PER_ADDRESS raised, or the rate limits answer code 8.
 */
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3333' },
    name: { type: 'string' },
    sn: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
  },
})
if (!values.name || !values.sn)
  throw new Error('--name and --sn of an approved device are required')
const device = { deviceName: values.name, sn: values.sn }
const seconds = Number(values.seconds)
const concurrency = Number(values.concurrency)

async function call(endpoint: string, fields: Record<string, string>) {
  const response = await fetch(`${values.url}/faces/api/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'gzip' },
    body: new URLSearchParams(fields).toString(),
  })
  return (await response.json()) as { code: number; token?: string }
}

async function token() {
  return call('token', device)
}

async function tokenAndGetDbs() {
  const issued = await token()
  if (issued.code !== 0) return issued
  return call('getDbs', {
    deviceName: device.deviceName,
    deviceSN: device.sn,
    token: issued.token!,
  })
}

async function measure(label: string, scenario: () => Promise<{ code: number }>) {
  const latencies: number[] = []
  const codes = new Map<number, number>()
  const until = Date.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const started = performance.now()
        const { code } = await scenario()
        latencies.push(performance.now() - started)
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    })
  )
  latencies.sort((a, b) => a - b)
  const at = (share: number) => latencies[Math.floor(share * (latencies.length - 1))].toFixed(1)
  return {
    'scenario': label,
    'calls/s': Math.round(latencies.length / seconds),
    'p50 ms': at(0.5),
    'p95 ms': at(0.95),
    'p99 ms': at(0.99),
    'codes': JSON.stringify(Object.fromEntries(codes)),
  }
}

console.log(`${values.url}, ${concurrency} concurrent clients, ${seconds} s each`)
console.table([await measure('token', token), await measure('token + getDbs', tokenAndGetDbs)])
