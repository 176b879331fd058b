import { Worker } from 'node:worker_threads'
import { PluginError, type FaceAnalysis } from '#plugin-sdk'
import type { ModelEntry } from './model_manifest.js'
import type { PipelineJob, PipelineSettings } from './pipeline.js'

interface Pending {
  id: number
  job: PipelineJob
  resolve: (faces: FaceAnalysis[]) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  busy: Pending | null
}

export class EngineWorkerError extends PluginError {
  constructor(message: string) {
    super(message, 'E_ENGINE_WORKER')
  }
}

/**
 * Running from source, workers need the TypeScript loader the main thread
 * has; a built app runs the compiled JavaScript as is.
 */
function workerEntry() {
  const fromSource = import.meta.url.endsWith('.ts')
  const url = new URL(fromSource ? './engine_worker.ts' : './engine_worker.js', import.meta.url)
  const execArgv = fromSource
    ? [...process.execArgv, `--import=${import.meta.resolve('@poppinss/ts-exec')}`]
    : process.execArgv
  return { url, execArgv }
}

/**
 * A few engine workers, each with its own ONNX sessions, and a queue in
 * front of them: two requests run on two cores, more wait their turn, and
 * the event loop only passes messages. A worker that dies fails its job
 * and marks the pool broken, so that the plugin's health check reports an
 * error and the host restarts the instance.
 */
export class SessionPool {
  #slots: Slot[] = []
  #queue: Pending[] = []
  #nextId = 1
  #broken: string | null = null
  #stopping = false

  private constructor() {}

  static async start(
    size: number,
    settings: PipelineSettings,
    entries: Record<string, ModelEntry>
  ) {
    const pool = new SessionPool()
    const { url, execArgv } = workerEntry()
    const started = Array.from({ length: size }, () =>
      pool.#spawn(url, execArgv, settings, entries)
    )
    const outcomes = await Promise.allSettled(started)
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure) {
      await pool.stop()
      throw failure.reason
    }
    return pool
  }

  #spawn(
    url: URL,
    execArgv: string[],
    settings: PipelineSettings,
    entries: Record<string, ModelEntry>
  ) {
    const worker = new Worker(url, { workerData: { settings, entries }, execArgv })
    const slot: Slot = { worker, busy: null }
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message) => {
        if (message.ready) {
          this.#slots.push(slot)
          resolve()
          this.#dispatch()
        } else if (message.failed) {
          reject(new EngineWorkerError(message.failed))
        } else {
          const pending = slot.busy
          slot.busy = null
          if (pending && message.id === pending.id) {
            if (message.error) pending.reject(new EngineWorkerError(message.error))
            else pending.resolve(message.faces)
          }
          this.#dispatch()
        }
      })
      worker.on('error', (error) => {
        reject(error)
        this.#fail(slot, `An engine worker crashed: ${error.message}`)
      })
      worker.on('exit', (code) => {
        reject(new EngineWorkerError(`An engine worker exited with code ${code} while starting`))
        if (!this.#stopping) this.#fail(slot, `An engine worker exited with code ${code}`)
      })
    })
  }

  get status() {
    return {
      workers: this.#slots.length,
      busy: this.#slots.filter((slot) => slot.busy).length,
      queued: this.#queue.length,
      broken: this.#broken,
    }
  }

  run(job: PipelineJob): Promise<FaceAnalysis[]> {
    if (this.#broken) return Promise.reject(new EngineWorkerError(this.#broken))
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject })
      this.#dispatch()
    })
  }

  #dispatch() {
    for (const slot of this.#slots) {
      if (slot.busy || this.#queue.length === 0) continue
      const pending = this.#queue.shift()!
      slot.busy = pending
      slot.worker.postMessage({ id: pending.id, job: pending.job })
    }
  }

  #fail(slot: Slot, reason: string) {
    this.#broken ??= reason
    this.#slots = this.#slots.filter((other) => other !== slot)
    const error = new EngineWorkerError(reason)
    slot.busy?.reject(error)
    slot.busy = null
    if (this.#slots.length === 0) {
      for (const pending of this.#queue.splice(0)) pending.reject(error)
    }
  }

  async stop() {
    this.#stopping = true
    const error = new EngineWorkerError('The engine is stopping')
    for (const pending of this.#queue.splice(0)) pending.reject(error)
    const slots = this.#slots.splice(0)
    for (const slot of slots) slot.busy?.reject(error)
    await Promise.all(slots.map((slot) => slot.worker.terminate()))
  }
}
