import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { AgentOutbox } from '#terminal-client/agent_outbox'

/**
 * The outbox as the agent runs it, in a process of its own that a test can
 * SIGKILL: records `--record` decisions (each with the snapshot), then
 * sends the backlog and exits once it is empty. Prints `recorded` and
 * then `sent <n>` as the backlog shrinks.
 */
const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    server: { type: 'string' },
    name: { type: 'string' },
    serial: { type: 'string' },
    secret: { type: 'string' },
    snapshot: { type: 'string' },
    record: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'kill' },
  },
})
const outbox = new AgentOutbox({
  databasePath: values.db!,
  serverUrl: values.server!,
  device: { deviceName: values.name!, serialNumber: values.serial!, secret: values.secret },
  baseBackoffMs: 200,
  maxBackoffMs: 2_000,
})
const snapshot = await readFile(values.snapshot!)
for (let index = 0; index < Number(values.record); index++) {
  await outbox.record({
    id: `${values.prefix}-${String(index).padStart(5, '0')}`,
    decision: 'granted',
    reason: 'recognised',
    name: `Person ${index}`,
    score: 0.9,
    method: 'face',
    snapshot,
  })
}
console.log('recorded')
outbox.start()
while (outbox.health().backlog > 0) await new Promise((resolve) => setTimeout(resolve, 50))
console.log('drained')
await outbox.close()
