import { fork, type ChildProcess } from 'node:child_process'
import { PluginError, type FaceAnalysis } from '#plugin-sdk'
import type { ModelEntry } from './model_manifest.js'
import type { PipelineJob, PipelineSettings } from './pipeline.js'

export interface PoolOptions {
  size: number
  /** Longest a job may run on a worker; past it the job fails and the worker is replaced. */
  jobTimeoutMs: number
  /** JavaScript heap of each worker; a worker that needs more dies alone and is replaced. */
  workerHeapMb: number
  /**
   * Resident memory a worker may reach (its heap, the models and what
   * onnxruntime and the allocator keep); past it, a fresh worker is started
   * and the old one leaves once its job is done. 0 for no ceiling.
   */
  workerRssMb?: number
  /** The module each worker runs: engine_worker, unless a test runs a stand-in. */
  script?: URL
}

interface Pending {
  id: number
  job: PipelineJob
  resolve: (faces: FaceAnalysis[]) => void
  reject: (error: Error) => void
  /** Resolves once the job has an answer or an error, whichever. */
  settled: Promise<void>
}

interface Slot {
  child: ChildProcess
  pending: Pending | null
  deadline: NodeJS.Timeout | null
  /** The end of what the worker wrote to stderr, which says why it died. */
  stderr: string
  exited: Promise<void>
  /** Resident memory the worker reported with its last answer, in bytes. */
  rss: number
  /** Past its memory ceiling: takes no more jobs once its replacement serves. */
  retiring: boolean
  retired: boolean
}

export type WorkerMessage =
  | { ready: true }
  | { failed: string }
  | { id: number; faces: FaceAnalysis[]; rss?: number }
  | { id: number; error: string; rss?: number }

export class EngineWorkerError extends PluginError {
  constructor(message: string) {
    super(message, 'E_ENGINE_WORKER')
  }
}

/** Jobs in flight when the engine stops get this long to finish, and workers to exit. */
const stopGraceMs = 2_000
/** After a replacement for a worker past its memory ceiling failed to start, the wait before another try. */
const recycleRetryMs = 60_000
const megabyte = 1024 * 1024
/**
 * A worker's young generation at a fixed, small size. Left to V8 it grows
 * under the stream of pictures (to 64 MB when pushed), and the pictures'
 * pixels, freed only when the young objects holding them are collected,
 * pile up with it: over terminal traffic a worker's memory stepped up by a
 * sixth after a quarter of an hour. Collections of a small young
 * generation are frequent and short, since little of a job outlives it.
 */
const youngGeneration = ['--min-semi-space-size=4', '--max-semi-space-size=4']

/**
 * Running from source, workers need the TypeScript loader; a built app
 * runs the compiled JavaScript as is. The server's own flags are not
 * passed on: a debugger port or a hot-reload hook belong to it alone.
 */
function workerEntry(script?: URL) {
  // The dev server's hot-reload hook adds a query string to module URLs.
  const fromSource = new URL(import.meta.url).pathname.endsWith('.ts')
  const module =
    script ?? new URL(fromSource ? './engine_worker.ts' : './engine_worker.js', import.meta.url)
  const execArgv = fromSource ? [`--import=${import.meta.resolve('@poppinss/ts-exec')}`] : []
  return { module, execArgv }
}

/**
 * A few engine workers, each a process of its own holding its ONNX
 * sessions, and a queue in front of them: two requests run on two cores,
 * more wait their turn, and the event loop only passes messages.
 *
 * One bad job fails alone: a job that runs past `jobTimeoutMs`, or whose
 * worker dies (out of its bounded heap, or crashed), is rejected, and that
 * worker alone is killed and replaced at once while the others keep
 * serving. Workers are processes rather than threads because nothing a
 * process does can take the server down with it: terminating a thread
 * while onnxruntime runs in it aborts the whole process ("terminate called
 * after throwing an instance of 'Napi::Error'"), and so can a thread
 * running out of its heap (nodejs/node#47224). The price is one copy of
 * each picture through the pipe, a few milliseconds for a camera frame.
 */
export class SessionPool {
  #slots: Slot[] = []
  #queue: Pending[] = []
  #nextId = 1
  #starting = 0
  #replaced = 0
  #lastLoss: string | null = null
  #recycled = 0
  #lastRecycle: string | null = null
  #recycleAfter = 0
  #broken: string | null = null
  #stopping = false
  #all = new Set<Slot>()
  #entry: ReturnType<typeof workerEntry>

  private constructor(
    private options: PoolOptions,
    private load: { settings: PipelineSettings; entries: Record<string, ModelEntry> }
  ) {
    this.#entry = workerEntry(options.script)
  }

  static async start(
    settings: PipelineSettings,
    entries: Record<string, ModelEntry>,
    options: PoolOptions
  ) {
    const pool = new SessionPool(options, { settings, entries: { ...entries } })
    const started = await Promise.allSettled(
      Array.from({ length: options.size }, () => pool.#spawn())
    )
    const failure = started.find((outcome) => outcome.status === 'rejected')
    if (failure) {
      await pool.stop()
      throw failure.reason
    }
    return pool
  }

  get status() {
    const serving = this.#slots.filter((slot) => !slot.retired)
    return {
      workers: serving.length,
      starting: this.#starting,
      busy: this.#slots.filter((slot) => slot.pending).length,
      queued: this.#queue.length,
      replaced: this.#replaced,
      lastReplaced: this.#lastLoss,
      recycled: this.#recycled,
      lastRecycled: this.#lastRecycle,
      residentMb: serving.map((slot) => Math.round(slot.rss / megabyte)),
      broken: this.#broken,
    }
  }

  /**
   * Loads more models into every worker, and into those that replace them
   * later; a job sent afterwards that needs one waits for it in its worker.
   */
  addModels(entries: Record<string, ModelEntry>) {
    Object.assign(this.load.entries, entries)
    for (const slot of this.#all) {
      if (slot.child.connected) slot.child.send({ models: entries }, () => {})
    }
  }

  run(job: PipelineJob): Promise<FaceAnalysis[]> {
    if (this.#stopping) return Promise.reject(new EngineWorkerError('The engine is stopping'))
    if (this.#slots.length === 0 && this.#starting === 0) {
      return Promise.reject(new EngineWorkerError(this.#broken ?? 'The engine has no worker'))
    }
    const { promise, resolve, reject } = Promise.withResolvers<FaceAnalysis[]>()
    const settled = promise.then(
      () => {},
      () => {}
    )
    this.#queue.push({ id: this.#nextId++, job, resolve, reject, settled })
    this.#dispatch()
    return promise
  }

  /**
   * Rejects the jobs still queued, gives the ones in flight a moment to
   * finish, then kills every worker, within the host's five seconds for a
   * stop.
   */
  async stop() {
    this.#stopping = true
    const stopping = new EngineWorkerError('The engine is stopping')
    for (const pending of this.#queue.splice(0)) pending.reject(stopping)
    const inFlight = this.#slots.flatMap((slot) => (slot.pending ? [slot.pending.settled] : []))
    await within(stopGraceMs, Promise.all(inFlight))
    this.#slots = []
    for (const slot of this.#all) {
      this.#take(slot)?.reject(stopping)
      slot.child.kill('SIGKILL')
    }
    await within(stopGraceMs, Promise.all([...this.#all].map((slot) => slot.exited)))
  }

  #spawn() {
    const { module, execArgv } = this.#entry
    const child = fork(module, [], {
      execArgv: [
        ...execArgv,
        `--max-old-space-size=${this.options.workerHeapMb}`,
        ...youngGeneration,
      ],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    const exited = Promise.withResolvers<void>()
    const slot: Slot = {
      child,
      pending: null,
      deadline: null,
      stderr: '',
      exited: exited.promise,
      rss: 0,
      retiring: false,
      retired: false,
    }
    this.#all.add(slot)
    this.#starting++
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      slot.stderr = (slot.stderr + chunk.toString()).slice(-2_000)
    })

    return new Promise<void>((resolve, reject) => {
      let ready = false
      const started = (error?: Error) => {
        if (ready) return
        ready = true
        this.#starting--
        if (error) {
          child.kill('SIGKILL')
          return reject(error)
        }
        resolve()
        if (this.#stopping) return void child.kill('SIGKILL')
        this.#slots.push(slot)
        this.#dispatch()
      }
      child.on('message', (message: WorkerMessage) => {
        if ('ready' in message) started()
        else if ('failed' in message) started(new EngineWorkerError(message.failed))
        else this.#reply(slot, message)
      })
      child.on('error', (error) => {
        if (child.pid === undefined) {
          this.#all.delete(slot)
          exited.resolve()
        }
        started(error)
        this.#lose(slot, `An engine worker failed: ${error.message}`)
      })
      child.on('exit', (code, signal) => {
        this.#all.delete(slot)
        exited.resolve()
        const reason = `An engine worker ${diedOf(code, signal, slot.stderr)}`
        started(new EngineWorkerError(`${reason} while starting`))
        this.#lose(slot, reason)
      })
      child.send(this.load, (error) => error && started(error))
    })
  }

  #dispatch() {
    for (const slot of this.#slots) {
      if (slot.pending || slot.retired || this.#queue.length === 0) continue
      const pending = this.#queue.shift()!
      slot.pending = pending
      slot.deadline = setTimeout(() => {
        this.#lose(slot, `The engine did not finish a job within ${this.options.jobTimeoutMs} ms`)
      }, this.options.jobTimeoutMs)
      slot.child.send({ id: pending.id, job: pending.job }, (error) => {
        if (error) this.#lose(slot, `An engine worker could not be sent a job: ${error.message}`)
      })
    }
  }

  #reply(
    slot: Slot,
    message: { id: number; faces?: FaceAnalysis[]; error?: string; rss?: number }
  ) {
    if (slot.pending?.id !== message.id) return
    const pending = this.#take(slot)!
    if (message.error !== undefined) pending.reject(new EngineWorkerError(message.error))
    else pending.resolve(message.faces!)
    if (message.rss !== undefined) slot.rss = message.rss
    if (slot.retired) this.#leave(slot)
    else this.#watchMemory(slot)
    this.#dispatch()
  }

  /**
   * A worker past its memory ceiling is replaced without failing a job:
   * it goes on serving while the new one loads its models, takes no job
   * once the new one serves, and leaves when the job it holds is done.
   */
  #watchMemory(slot: Slot) {
    const ceiling = this.options.workerRssMb ?? 0
    if (ceiling <= 0 || slot.retiring || slot.rss <= ceiling * megabyte) return
    if (this.#stopping || Date.now() < this.#recycleAfter) return
    slot.retiring = true
    const reached = Math.round(slot.rss / megabyte)
    this.#spawn().then(
      () => {
        if (!this.#slots.includes(slot)) return
        slot.retired = true
        this.#recycled++
        this.#lastRecycle = `it reached ${reached} MB resident (ceiling ${ceiling} MB)`
        if (!slot.pending) this.#leave(slot)
      },
      () => {
        // The worker past its ceiling serves on rather than leaving the engine short of one.
        slot.retiring = false
        this.#recycleAfter = Date.now() + recycleRetryMs
        // Unless it was lost meanwhile: then it is replaced as any lost worker.
        if (!this.#slots.includes(slot)) this.#replace()
      }
    )
  }

  /** A retired worker with no job: out of the pool, then ended (its exit is no loss). */
  #leave(slot: Slot) {
    this.#slots = this.#slots.filter((other) => other !== slot)
    slot.child.kill('SIGKILL')
  }

  /** The job a slot holds, now no longer its: whoever takes it settles it. */
  #take(slot: Slot) {
    const pending = slot.pending
    slot.pending = null
    if (slot.deadline) clearTimeout(slot.deadline)
    slot.deadline = null
    return pending
  }

  /**
   * A worker that can no longer serve: its job fails with `reason`, the
   * worker is killed (killing a process never harms this one), and a fresh
   * worker takes its place.
   */
  #lose(slot: Slot, reason: string) {
    if (!this.#slots.includes(slot)) return
    this.#slots = this.#slots.filter((other) => other !== slot)
    this.#lastLoss = reason
    this.#take(slot)?.reject(new EngineWorkerError(reason))
    slot.child.kill('SIGKILL')
    this.#replaced++
    // A worker being renewed has its replacement on the way already.
    if (!slot.retiring) this.#replace()
    this.#dispatch()
  }

  #replace() {
    if (this.#stopping) return
    this.#spawn().catch((error: Error) => {
      if (this.#stopping) return
      this.#broken = `An engine worker could not be replaced: ${error.message}`
      if (this.#slots.length > 0 || this.#starting > 0) return
      const failure = new EngineWorkerError(this.#broken)
      for (const pending of this.#queue.splice(0)) pending.reject(failure)
    })
  }
}

/** How a worker ended, in words, with V8's own line when it ran out of heap. */
function diedOf(code: number | null, signal: NodeJS.Signals | null, stderr: string) {
  const fatal = /FATAL ERROR: .*/.exec(stderr)?.[0]
  const how = signal ? `was ended by ${signal}` : `exited with code ${code}`
  return fatal ? `${how} (${fatal})` : how
}

/** Waits for `work`, or for `ms`, whichever comes first. */
async function within(ms: number, work: Promise<unknown>) {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
