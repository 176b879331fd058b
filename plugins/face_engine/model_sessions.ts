import { join } from 'node:path'
import ort from 'onnxruntime-node'
import type { ModelEntry } from './model_manifest.js'

export type ModelOutputs = Record<string, Float32Array>

/**
 * The ONNX sessions of one engine worker, each loaded once and reused for
 * every request that worker serves. A session runs on the calling thread
 * (onnxruntime-node's `run` is synchronous underneath), which is why they
 * live in workers and not on the event loop.
 */
export class ModelSessions {
  #sessions = new Map<string, Promise<ort.InferenceSession>>()

  private constructor(
    private directory: string,
    readonly entries: Record<string, ModelEntry>,
    private threads: number
  ) {}

  static async load(directory: string, entries: Record<string, ModelEntry>, threads: number) {
    const sessions = new ModelSessions(directory, { ...entries }, threads)
    for (const [id, entry] of Object.entries(entries)) {
      await sessions.add(id, entry)
    }
    return sessions
  }

  /**
   * Loads one more model; a job that runs it meanwhile waits for it. A
   * model that fails to load is forgotten, so that it can be asked again.
   */
  add(id: string, entry: ModelEntry) {
    if (this.#sessions.has(id)) return this.#sessions.get(id)!
    this.entries[id] = entry
    const loading = ort.InferenceSession.create(join(this.directory, entry.file), {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    })
    this.#sessions.set(id, loading)
    loading.catch(() => {
      this.#sessions.delete(id)
      delete this.entries[id]
    })
    return loading
  }

  entry(id: string) {
    const entry = this.entries[id]
    if (!entry) throw new Error(`Model "${id}" is not loaded`)
    return entry
  }

  /**
   * Runs model `id` on one NHWC input (what the sampler makes), turned
   * planar first for a model whose manifest says NCHW.
   */
  async run(id: string, input: Float32Array): Promise<ModelOutputs> {
    const session = await this.#sessions.get(id)
    if (!session) throw new Error(`Model "${id}" is not loaded`)
    const entry = this.entry(id)
    const [spec] = entry.inputs
    const values = entry.preprocessing.layout === 'NCHW' ? planar(input, 3) : input
    const feeds = { [spec.name]: new ort.Tensor('float32', values, spec.shape) }
    const results = await session.run(feeds)
    const outputs: ModelOutputs = {}
    for (const [name, tensor] of Object.entries(results)) {
      outputs[name] = tensor.data as Float32Array
    }
    return outputs
  }
}

/** Interleaved pixels (HWC) to one plane per channel (CHW). */
function planar(values: Float32Array, channels: number) {
  const pixels = values.length / channels
  const planes = new Float32Array(values.length)
  for (let pixel = 0; pixel < pixels; pixel++) {
    for (let channel = 0; channel < channels; channel++) {
      planes[channel * pixels + pixel] = values[pixel * channels + channel]
    }
  }
  return planes
}
