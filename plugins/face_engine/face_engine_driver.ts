import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import {
  engineCapabilities,
  PluginCommandError,
  PluginError,
  type EngineDriver,
  type EngineInput,
  type EngineOutcome,
  type FaceAnalysis,
  type FaceAnalysisRequest,
  type PluginContext,
  type PluginHealth,
} from '#plugin-sdk'
import type { AgeGenderModel } from './age_gender.js'
import {
  defaultEmbedder,
  flipsByDefault,
  isEmbedderModel,
  networksOf,
  type EmbedderModel,
} from './embedder.js'
import { verifiedModels, type ModelEntry } from './model_manifest.js'
import { pipelineModels, type PipelineJob, type PipelineSettings } from './pipeline.js'
import { SessionPool } from './session_pool.js'
import { SimulatedEngine } from './simulator.js'

export interface FaceEngineConfig {
  /** `simulated` runs the deterministic stand-in from simulator.ts, with no models. */
  engine?: 'onnx' | 'simulated'
  /** Folder holding manifest.json and the .onnx files, relative to the working directory. */
  modelsDir?: string
  detector?: 'blazeface'
  landmarks?: 'facemesh'
  embedder?: EmbedderModel
  flipEmbedding?: boolean
  ageGender?: AgeGenderModel
  threadsPerSession?: number
  poolSize?: number
  /** Longest one picture may take in a worker before that worker is replaced. */
  jobTimeoutMs?: number
  /** JavaScript heap of each worker, in megabytes. */
  workerHeapMb?: number
  /** Resident memory past which a worker is renewed, in megabytes; 0 for no ceiling. */
  workerRssMb?: number
  minFaceSize?: number
  genderMargin?: number
}

/** The defaults, each chosen by measurement on faces-dev (see README.md). */
export function pipelineSettings(config: FaceEngineConfig): PipelineSettings {
  return {
    modelsDir: resolve(config.modelsDir ?? 'models'),
    threadsPerSession: config.threadsPerSession ?? 1,
    detector: config.detector ?? 'blazeface',
    landmarks: config.landmarks ?? 'facemesh',
    embedder: config.embedder ?? defaultEmbedder,
    flipEmbedding: config.flipEmbedding ?? flipsByDefault[config.embedder ?? defaultEmbedder],
    ageGender: config.ageGender ?? 'faceapi-age-gender',
    minFaceSize: config.minFaceSize ?? 20,
    genderMargin: config.genderMargin ?? 0,
  }
}

/** What runs the jobs: the worker pool, or the simulated engine. */
export interface EngineBackend {
  run(job: PipelineJob): Promise<FaceAnalysis[]>
  addModels?(entries: Record<string, ModelEntry>): void
  readonly status: Record<string, unknown>
  stop(): Promise<void>
}

const noFace = { ok: false, error: { type: 'no_face' } } as const

/**
 * The slowest pictures measured, 12 to 40 megapixels searched for every
 * face, take about half a second; five seconds leave room for a slower or
 * busier machine and still fail a stuck job long before the host's 30 s
 * for a call.
 */
const defaultJobTimeoutMs = 5_000
/**
 * Pixels live outside the heap (in typed arrays), so even a 40-megapixel
 * picture runs in a 64 MB heap; four times that is ample.
 */
const defaultWorkerHeapMb = 256
/**
 * A worker holds 200 to 300 MB serving terminals and briefly up to about
 * 700 MB decoding 12-megapixel photos; past 1 GB something is being kept
 * that should not be, and a fresh worker is cheaper than finding out.
 */
const defaultWorkerRssMb = 1024

/**
 * The face engine as the plugin host sees it. Jobs go to a pool of
 * workers that each hold the ONNX sessions; this side only validates
 * input, forwards it and shapes the answers. Faces the engine cannot find
 * come back as `no_face` values, never as exceptions.
 */
export class FaceEngineDriver implements EngineDriver {
  readonly capabilities = engineCapabilities
  #backend: EngineBackend | null = null
  #settings: PipelineSettings
  /**
   * Recognition models loaded because a request asked for them, by model:
   * kept across restarts, so a restarted engine serves them at once.
   */
  #otherEmbedders = new Map<string, Promise<Record<string, ModelEntry>>>()

  constructor(private context: PluginContext<FaceEngineConfig>) {
    this.#settings = pipelineSettings(context.config)
  }

  async start() {
    await this.#backend?.stop()
    this.#backend = null
    const { config } = this.context
    if (config.engine === 'simulated') {
      this.#backend = new SimulatedEngine()
    } else {
      const models = pipelineModels(this.#settings)
      const entries = await verifiedModels(this.#settings.modelsDir, models)
      for (const verified of this.#otherEmbedders.values()) {
        Object.assign(entries, await verified.catch(() => ({})))
      }
      this.#backend = await SessionPool.start(this.#settings, entries, {
        size: config.poolSize ?? Math.min(2, availableParallelism()),
        jobTimeoutMs: config.jobTimeoutMs ?? defaultJobTimeoutMs,
        workerHeapMb: config.workerHeapMb ?? defaultWorkerHeapMb,
        workerRssMb: config.workerRssMb ?? defaultWorkerRssMb,
      })
    }
    this.context.logger.info(
      { engine: config.engine ?? 'onnx', embedder: this.#settings.embedder },
      'face engine started'
    )
  }

  async stop() {
    const backend = this.#backend
    this.#backend = null
    await backend?.stop()
  }

  /**
   * A worker replaced after a bad job leaves the engine running; the
   * message says how many were, and why the last one was.
   */
  async health(): Promise<PluginHealth> {
    if (!this.#backend) return { status: 'error', message: 'Not started' }
    const status = this.#backend.status
    if (status.broken) return { status: 'error', message: String(status.broken), details: status }
    const replaced = status.replaced
      ? `; ${status.replaced} replaced, the last because: ${status.lastReplaced}`
      : ''
    const recycled = status.recycled
      ? `; ${status.recycled} renewed, the last because ${status.lastRecycled}`
      : ''
    const resident =
      Array.isArray(status.residentMb) && status.residentMb.some(Boolean)
        ? ` (${status.residentMb.map((mb) => `${mb} MB`).join(', ')})`
        : ''
    return {
      status: 'ok',
      message:
        this.context.config.engine === 'simulated'
          ? 'Simulated engine, no models'
          : `${status.workers} worker(s)${resident}, features from ${this.#settings.embedder}${replaced}${recycled}`,
      details: {
        ...status,
        embedder: this.#settings.embedder,
        ageGender: this.#settings.ageGender,
      },
    }
  }

  get embedder() {
    return this.context.config.engine === 'simulated' ? 'simulated' : this.#settings.embedder
  }

  async detect(input: EngineInput) {
    const faces = await this.#run(input, 'all', {})
    if (faces.length === 0) return noFace
    return { ok: true as const, faces: faces.map((analysis) => analysis.face) }
  }

  async align(input: EngineInput) {
    return this.#one(input, { aligned: true }, ({ face, aligned }) => ({ face, aligned: aligned! }))
  }

  async embed(input: EngineInput, embedder?: string) {
    return this.#one(input, { feature: true, embedder }, ({ face, feature }) => ({
      face,
      feature: feature!,
    }))
  }

  async age(input: EngineInput) {
    return this.#one(input, { ageGender: true }, ({ face, age }) => ({ face, age: age! }))
  }

  async gender(input: EngineInput) {
    return this.#one(input, { ageGender: true }, ({ face, gender, female }) => ({
      face,
      gender: gender!,
      female: female!,
    }))
  }

  async liveness(input: EngineInput) {
    return this.#one(input, { liveness: true }, ({ face, liveness }) => ({
      face,
      liveness: liveness!,
    }))
  }

  async quality(input: EngineInput) {
    return this.#one(input, { quality: true }, ({ face, quality }) => ({ face, quality: quality! }))
  }

  async analyse(input: EngineInput, request: FaceAnalysisRequest) {
    return this.#one(input, request, (analysis) => analysis)
  }

  async #one<Result extends object>(
    input: EngineInput,
    request: FaceAnalysisRequest,
    pick: (analysis: FaceAnalysis) => Result
  ): Promise<EngineOutcome<Result>> {
    const [analysis] = await this.#run(input, 'one', request)
    if (!analysis) return noFace
    return { ok: true, ...pick(analysis) }
  }

  /**
   * Another recognition model than the configured one, asked for by the
   * request: checked against the manifest once and loaded into the workers
   * on first use (the simulated engine has one model and ignores it).
   */
  async #embedderFor(request: FaceAnalysisRequest) {
    const wanted = request.embedder
    if (!request.feature || !wanted || wanted === this.#settings.embedder) return undefined
    if (this.context.config.engine === 'simulated') return undefined
    if (!isEmbedderModel(wanted)) {
      throw new PluginCommandError(`"${wanted}" is not a recognition model of this engine`)
    }
    let verified = this.#otherEmbedders.get(wanted)
    if (!verified) {
      verified = verifiedModels(this.#settings.modelsDir, networksOf(wanted))
      this.#otherEmbedders.set(wanted, verified)
      verified.then(
        (entries) => this.#backend?.addModels?.(entries),
        () => this.#otherEmbedders.delete(wanted)
      )
    }
    await verified
    return wanted
  }

  async #run(input: EngineInput, scope: PipelineJob['scope'], request: FaceAnalysisRequest) {
    if (!this.#backend) throw new PluginError('The face engine is not started', 'E_PLUGIN_STOPPED')
    const { image, face } = input
    if (
      !Number.isInteger(image?.width) ||
      !Number.isInteger(image?.height) ||
      image.width < 1 ||
      image.height < 1 ||
      !(image.data instanceof Uint8Array) ||
      image.data.length !== image.width * image.height * 3
    ) {
      throw new PluginCommandError('The image is not decoded RGB of the size it claims')
    }
    if (face && !(face.right > face.left && face.bottom > face.top)) {
      throw new PluginCommandError('The face box is empty: right must exceed left, bottom top')
    }
    const embedder = await this.#embedderFor(request)
    if (!this.#backend) throw new PluginError('The face engine is not started', 'E_PLUGIN_STOPPED')
    return this.#backend.run({
      image,
      scope,
      near: scope === 'one' ? face : undefined,
      request: { ...request, embedder },
    })
  }
}
