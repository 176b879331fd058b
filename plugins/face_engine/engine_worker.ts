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

process.once(
  'message',
  async (load: { settings: PipelineSettings; entries: Record<string, ModelEntry> }) => {
    let pipeline: FacePipeline
    try {
      pipeline = await FacePipeline.load(load.settings, load.entries)
    } catch (error) {
      send({ failed: error instanceof Error ? error.message : String(error) })
      return
    }
    process.on('message', async ({ id, job }: { id: number; job: PipelineJob }) => {
      try {
        send({ id, faces: await pipeline.run(job) })
      } catch (error) {
        send({ id, error: error instanceof Error ? error.message : String(error) })
      }
    })
    send({ ready: true })
  }
)
