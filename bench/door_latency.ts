/**
 * npm run bench:door [-- --samples=100]
 *
 * How long a door takes to open after a grant: from the door service
 * being handed a granted decision to the relay board seeing the coil
 * written, measured by the board (pymodbus, tests/peers/modbus_slave.py)
 * on the same monotonic clock. Over Modbus RTU at 9600 baud 8N1 (a socat
 * pty pair, with the slave holding each answer back for the time the
 * request and the answer take on a real pair at that speed) and over
 * Modbus TCP on loopback; each idle, and with the gate polling its door
 * contact and exit button every 200 ms as a site would. Prints p50, p99
 * and max per link. Needs socat and python3-pymodbus (scripts/setup.sh).
 */
import 'reflect-metadata'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Ignitor } from '@adonisjs/core'
import { Logger } from '@adonisjs/core/logger'
import { PluginHost } from '#plugin-host/plugin_host'
import { defaultPluginTimeouts } from '#plugin-host/contracts'
import type { AccessDecisionService } from '#services/access_decision_service'
import type { AccessEventRecorder } from '#services/access_event_recorder'
import { ModbusPeer } from '#tests/helpers/modbus_peer'

/**
 * The app booted as for an ace command (nothing started), so that the
 * door service and the models load as in the server.
 */
const root = new URL('../', import.meta.url)
const booted = new Ignitor(root, {
  importer: (path) => import(path.startsWith('.') ? new URL(path, root).href : path),
})
  .tap((app) => app.booting(async () => void (await import('#start/env'))))
  .createApp('console')
await booted.init()
await booted.boot()
const { default: Device } = await import('#models/device')
const { DoorService } = await import('#services/doors/door_service')

const { values } = parseArgs({ options: { samples: { type: 'string', default: '100' } } })
const samples = Number(values.samples)
const logger = new Logger({ enabled: false, name: 'bench-door' })
const now = () => Number(process.hrtime.bigint()) / 1e6

interface Row {
  link: string
  polling: boolean
  latencies: number[]
}

async function measure(link: 'rtu' | 'tcp', polling: boolean): Promise<Row> {
  const peer = link === 'rtu' ? await ModbusPeer.rtu({ wireBaud: 9600 }) : await ModbusPeer.tcp()
  const inputs = {
    door: { table: 'discrete_inputs', address: 0 },
    exitButton: { table: 'discrete_inputs', address: 1 },
    pollMs: 200,
  }
  const host = new PluginHost(
    { modbus_gate: () => import('#plugins/modbus_gate/plugin') },
    {
      instances: {
        file: 'bench.json',
        entries: [
          {
            id: 'bench-door',
            plugin: 'modbus-gate',
            config: {
              bus: link === 'rtu' ? { ...peer.bus, baudRate: 9600 } : peer.bus,
              unitId: 1,
              timeoutMs: 500,
              open: { coil: 0 },
              ...(polling ? { inputs } : {}),
            },
          },
        ],
        error: null,
      },
      supervision: {
        timeouts: defaultPluginTimeouts,
        healthIntervalMs: 30_000,
        backoff: { baseMs: 1000, maxMs: 60_000 },
        maxFailures: 8,
      },
    },
    logger
  )
  await host.start()
  const doors = new DoorService(
    host,
    null as unknown as AccessDecisionService,
    null as unknown as AccessEventRecorder,
    logger
  )
  const device = new Device()
  device.name = 'Bench'
  device.config = { door: { gate: 'bench-door', openSeconds: 1 } }

  const latencies: number[] = []
  for (let sample = 0; sample < samples; sample++) {
    const seen = peer.writes.length
    /** A random phase against the poll loop, as people do not arrive in step with it. */
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200))
    const decidedAt = now()
    await doors.decided(device, { decision: 'granted', reason: 'granted' })
    const on = await peer.waitFor(
      (writes) => writes.slice(seen).find((write) => write.values[0] === 1),
      'the coil on'
    )
    latencies.push(on.at - decidedAt)
    await peer.waitFor(
      (writes) => writes.slice(seen).some((write) => write.values[0] === 0),
      'the coil off',
      5000
    )
  }
  await host.stop()
  await peer.stop()
  return {
    link: link === 'rtu' ? 'RTU 9600 8N1 (pty)' : 'Modbus TCP (loopback)',
    polling,
    latencies,
  }
}

function percentile(sorted: number[], fraction: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]
}

const rows: Row[] = []
for (const link of ['rtu', 'tcp'] as const) {
  for (const polling of [false, true]) rows.push(await measure(link, polling))
}

console.log(
  `\nDecision to coil written, ${samples} openings each (load ${loadavg()[0].toFixed(1)})\n`
)
console.log('| link | door inputs polled | p50 ms | p99 ms | max ms |')
console.log('|---|---|---:|---:|---:|')
for (const { link, polling, latencies } of rows) {
  const sorted = [...latencies].sort((a, b) => a - b)
  const cells = [0.5, 0.99].map((fraction) => percentile(sorted, fraction).toFixed(1))
  console.log(
    `| ${link} | ${polling ? 'every 200 ms' : 'no'} | ${cells.join(' | ')} | ${sorted.at(-1)!.toFixed(1)} |`
  )
}
process.exit(0)
