import type { ModelEntry } from './model_manifest.js'
import { FacePipeline, type PipelineJob, type PipelineSettings } from './pipeline.js'
import type { WorkerMessage } from './session_pool.js'

/**
 * One engine worker process: loads its own sessions once, from the first
 * message, then runs the jobs the pool sends it one at a time, so that
 * inference never runs on the server's event loop and each worker keeps
 * one core busy. It leaves when the server does.
 */
const send = (message: WorkerMessage) => process.send!(message)

process.on('disconnect', () => process.exit(0))

type Load = { settings: PipelineSettings; entries: Record<string, ModelEntry> }
type Incoming = Load | { models: Record<string, ModelEntry> } | { id: number; job: PipelineJob }

/**
 * The first message loads the pipeline; later ones add models (a
 * recognition model asked for besides the configured one) or run jobs,
 * both once the pipeline is there. IPC keeps their order, so a job sent
 * after the model it needs finds that model loading or loaded.
 */
let pipeline: Promise<FacePipeline> | null = null

process.on('message', async (message: Incoming) => {
  if ('settings' in message) {
    pipeline = FacePipeline.load(message.settings, message.entries)
    try {
      await pipeline
    } catch (error) {
      send({ failed: error instanceof Error ? error.message : String(error) })
      return
    }
    send({ ready: true })
    return
  }
  // A worker whose load failed said so and is being replaced; it takes nothing more.
  const loaded = await pipeline?.catch(() => null)
  if (!loaded) return
  if ('models' in message) {
    for (const [id, entry] of Object.entries(message.models)) {
      loaded.sessions.add(id, entry).catch(() => {})
    }
    return
  }
  const { id, job } = message
  try {
    send({ id, faces: await loaded.run(job), rss: process.memoryUsage.rss() })
  } catch (error) {
    const said = error instanceof Error ? error.message : String(error)
    send({ id, error: said, rss: process.memoryUsage.rss() })
  }
})
