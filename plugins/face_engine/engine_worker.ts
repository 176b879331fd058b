import { parentPort, workerData } from 'node:worker_threads'
import type { ModelEntry } from './model_manifest.js'
import { FacePipeline, type PipelineJob, type PipelineSettings } from './pipeline.js'

/**
 * One engine worker: loads its own sessions once, then runs the jobs the
 * pool sends it one at a time, so that inference never runs on the
 * server's event loop and each worker keeps one core busy.
 */
const { settings, entries } = workerData as {
  settings: PipelineSettings
  entries: Record<string, ModelEntry>
}
const port = parentPort!

try {
  const pipeline = await FacePipeline.load(settings, entries)
  port.on('message', async ({ id, job }: { id: number; job: PipelineJob }) => {
    try {
      port.postMessage({ id, faces: await pipeline.run(job) })
    } catch (error) {
      port.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
    }
  })
  port.postMessage({ ready: true })
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) })
}
