/**
 * node --import=@poppinss/ts-exec bench/offline_identify.ts \
 *   [--faces=10000] [--decisions=5000] [--port=3482] \
 *   [--model=faceapi-recognition --dimension=128]
 *
 * The terminal agent's offline mode at site scale. Makes a fresh SQLite
 * database (tmp/bench_offline.sqlite3) with `faces` synthetic faces of
 * `model` (the 128-d recognition model unless told; two per person) in
 * one access group with one approved device, starts the server on it,
 * and has the agent sync them over HTTP (getDbs in full, then an
 * incremental getDbs with nothing changed) into its own database
 * (tmp/bench_offline_agent.sqlite3). Then
 * it decides `decisions` times from the copy alone, half the probes a
 * noisy copy of an enrolled face and half strangers, and prints the time
 * per decision (p50, p99, max), the sync and reload times, and the
 * agent's memory before the sync and with the copy loaded (after a full
 * garbage collection). Needs Redis (REDIS_* as for the server).
 */
import { rm, stat } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { FeatureComparator } from '#faces/feature_blob'
import { defaultMargin } from '#faces/open_set_identification'
import { openAgentDatabase } from '#terminal-client/agent_store'
import { FaceSync } from '#terminal-client/offline/face_sync'
import { OfflineDecider } from '#terminal-client/offline/offline_decider'
import {
  approvedDevice,
  migrate,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'
import { insertSyntheticPeople, SyntheticFaces } from './support/synthetic_faces.js'

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '10000' },
    decisions: { type: 'string', default: '5000' },
    port: { type: 'string', default: '3482' },
    model: { type: 'string', default: 'faceapi-recognition' },
    dimension: { type: 'string', default: '128' },
  },
})
const faceCount = Number(values.faces)
const decisionCount = Number(values.decisions)
const dbFile = 'bench_offline.sqlite3'
const agentFile = 'tmp/bench_offline_agent.sqlite3'
const dimension = Number(values.dimension)
const model = values.model!
const device = { deviceName: 'Bench offline', serialNumber: 'BENCH-OFFLINE-1' }

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const faces = new SyntheticFaces(dimension)

function seedSite(): { secret: string; enrolled: Float32Array[] } {
  const printed = approvedDevice(dbFile, device)
  const secret = /(fa1_[A-Za-z0-9_-]+)/.exec(printed)?.[1]
  if (!secret) throw new Error(`no credential in: ${printed}`)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const groupId = sqlite
    .prepare(`insert into access_groups (name, created_at, updated_at) values ('Bench', ?, ?)`)
    .run(now, now).lastInsertRowid
  sqlite
    .prepare(
      `insert into access_group_devices (access_group_id, device_id) select ?, id from devices`
    )
    .run(groupId)
  const enrolled = insertSyntheticPeople(
    sqlite,
    faces,
    { people: faceCount / 2, facesPerPerson: 2, model, groupId },
    now
  )
  sqlite.close()
  return { secret, enrolled }
}

function memory() {
  gc()
  const usage = process.memoryUsage()
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
  return { rss: mb(usage.rss), heap: mb(usage.heapUsed), buffers: mb(usage.arrayBuffers) }
}

const quantile = (sorted: number[], share: number) =>
  sorted[Math.floor(share * (sorted.length - 1))].toFixed(3)

async function main() {
  await Promise.all(
    [`tmp/${dbFile}`, agentFile].flatMap((file) =>
      ['', '-wal', '-shm'].map((end) => rm(`${file}${end}`, { force: true }))
    )
  )
  migrate(dbFile)
  const { secret, enrolled } = seedSite()
  const port = values.port!
  const server = await startServer({ port, dbFile })
  try {
    const before = memory()
    const db = openAgentDatabase(agentFile)
    const comparator = await FeatureComparator.fromManifest('models/manifest.json')
    // The defaults of IDENTIFY_TARGET_FPIR and IDENTIFY_MARGIN.
    const decider = new OfflineDecider({
      db,
      comparator,
      policy: { targetFpir: 0.01, margin: defaultMargin },
    })
    let reloadMs = 0
    const sync = new FaceSync({
      db,
      serverUrl: `http://127.0.0.1:${port}`,
      device: { ...device, secret },
      onSynced: () => {
        const started = performance.now()
        decider.reload()
        reloadMs = performance.now() - started
      },
    })
    let started = performance.now()
    const full = await sync.syncNow()
    const fullMs = performance.now() - started - reloadMs
    const fullReloadMs = reloadMs
    started = performance.now()
    const incremental = await sync.syncNow()
    const incrementalMs = performance.now() - started - reloadMs
    if (!full.full || incremental.full || decider.faces !== faceCount) {
      throw new Error(`synced ${decider.faces} faces, full ${full.full}/${incremental.full}`)
    }
    const loaded = memory()

    // Compiled and warm before timing, as at a door after its first passers-by.
    for (let i = 0; i < 200; i++) decider.decide({ feature: { model, vector: faces.random() } })
    const times: number[] = []
    let granted = 0
    let strangersNamed = 0
    for (let i = 0; i < decisionCount; i++) {
      const genuine = i % 2 === 0
      const vector = genuine ? faces.noisy(enrolled[(i * 7919) % enrolled.length]) : faces.random()
      const at = performance.now()
      const decision = decider.decide({ feature: { model, vector } })
      times.push(performance.now() - at)
      if (genuine && decision.decision === 'granted') granted++
      if (!genuine && decision.username) strangersNamed++
    }
    times.sort((a, b) => a - b)
    const after = memory()
    const files = await Promise.all([stat(agentFile), stat(`${agentFile}-wal`)])
    const agentBytes = files[0].size + files[1].size

    const threshold = decider.decide({ feature: { model, vector: faces.random() } }).threshold
    console.log(
      `\nOffline decisions over ${faceCount} synced faces of ${model} (${faceCount / 2} people)\n`
    )
    console.log('| measure | value |')
    console.log('|---|---|')
    console.log(
      `| full sync over HTTP (getDbs, decode, one transaction) | ${fullMs.toFixed(0)} ms |`
    )
    console.log(`| incremental sync with nothing changed | ${incrementalMs.toFixed(0)} ms |`)
    console.log(`| gallery reload from the agent database | ${fullReloadMs.toFixed(0)} ms |`)
    console.log(`| threshold at this gallery size (FPIR 1%) | ${threshold.toFixed(4)} |`)
    console.log(
      `| decision p50 / p99 / max (${decisionCount}) | ${quantile(times, 0.5)} / ${quantile(times, 0.99)} / ${times.at(-1)!.toFixed(3)} ms |`
    )
    console.log(`| load average (1 min) on ${cpus().length} cores | ${loadavg()[0].toFixed(1)} |`)
    console.log(`| enrolled probes granted | ${granted} of ${decisionCount / 2} |`)
    console.log(`| strangers named | ${strangersNamed} of ${decisionCount / 2} |`)
    console.log(
      `| agent RSS / heap / array buffers before sync | ${before.rss} / ${before.heap} / ${before.buffers} MB |`
    )
    console.log(`| with the copy loaded | ${loaded.rss} / ${loaded.heap} / ${loaded.buffers} MB |`)
    console.log(`| after the decisions | ${after.rss} / ${after.heap} / ${after.buffers} MB |`)
    console.log(`| agent database (with WAL) | ${(agentBytes / 1024 / 1024).toFixed(1)} MB |`)
    db.close()
  } finally {
    await stopServer(server)
  }
}

await main()
