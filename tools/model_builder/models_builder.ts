import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TensorSpec } from '#tools/model_builder/onnx_graph'
import { fusedEmbedders } from '#plugins/face_engine/embedder'
import {
  modelCatalog,
  type ModelId,
  type ModelSpec,
  type Preprocessing,
} from '#tools/model_builder/model_catalog'

/**
 * Bump whenever a change to the builder changes what the .onnx files
 * compute or how fast they run, or what the manifest says, so that
 * existing builds are redone.
 */
export const BUILDER_VERSION = 2

export interface SourceFile {
  path: string
  sha256: string
}

export interface ModelManifestEntry {
  file: string
  sha256: string
  bytes: number
  description: string
  source: { package: string; version: string; origin: string; files: SourceFile[] }
  licence: string
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  preprocessing: Preprocessing
  decoding: Record<string, unknown>
  calibration?: unknown
}

export interface ModelsManifest {
  formatVersion: 1
  builderVersion: number
  models: Partial<Record<ModelId, ModelManifestEntry>>
  /**
   * Recognition models fused from built ones (embedder.ts): their parts
   * and weights, and their own calibration. They have no file.
   */
  fused: Record<
    string,
    { parts: readonly { model: string; weight: number }[]; calibration?: unknown }
  >
}

export interface ModelBuildResult {
  id: ModelId
  status: 'built' | 'unchanged'
  milliseconds: number
  entry: ModelManifestEntry
}

export interface ModelsBuilderPaths {
  /** The app root; packages are read from its node_modules. */
  rootDir: string
  /** Where the .onnx files and manifest.json go. */
  outDir: string
  /** plugins/face_engine/calibration.json: per-model entries copied into the manifest. */
  calibrationFile: string
}

/** Shapes and index lists read better on one line than one number per line. */
const numberArrays = /\[[-\d.,\s]+\]/g

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function fileSha256(path: string) {
  try {
    return sha256(await readFile(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

const sameSources = (a: ModelManifestEntry['source'], b: ModelManifestEntry['source']) =>
  a.package === b.package &&
  a.version === b.version &&
  JSON.stringify(a.files) === JSON.stringify(b.files)

/**
 * Builds models/<id>.onnx for every catalogued model and writes
 * models/manifest.json. A model whose sources, builder version and output
 * file are unchanged is not rebuilt, so a second run only hashes files.
 */
export class ModelsBuilder {
  constructor(private paths: ModelsBuilderPaths) {}

  get manifestPath() {
    return join(this.paths.outDir, 'manifest.json')
  }

  async build(options: { force?: boolean; onModel?: (result: ModelBuildResult) => void } = {}) {
    await mkdir(this.paths.outDir, { recursive: true })
    const previous = await readJson<ModelsManifest>(this.manifestPath)
    const reusable =
      previous?.formatVersion === 1 && previous.builderVersion === BUILDER_VERSION && !options.force
        ? previous.models
        : {}
    const calibration = (await readJson<Record<string, unknown>>(this.paths.calibrationFile)) ?? {}

    const manifest: ModelsManifest = {
      formatVersion: 1,
      builderVersion: BUILDER_VERSION,
      models: {},
      fused: {},
    }
    const results: ModelBuildResult[] = []
    for (const spec of modelCatalog) {
      const result = await this.#buildModel(spec, reusable[spec.id], calibration[spec.id])
      manifest.models[spec.id] = result.entry
      results.push(result)
      options.onModel?.(result)
    }

    for (const [id, parts] of Object.entries(fusedEmbedders)) {
      manifest.fused[id] = { parts }
      if (calibration[id] !== undefined) manifest.fused[id].calibration = calibration[id]
    }

    const text = `${JSON.stringify(manifest, null, 2).replace(numberArrays, (array) => array.replace(/\s+/g, ' ').replace('[ ', '[').replace(' ]', ']'))}\n`
    if (text !== (await readFile(this.manifestPath, 'utf8').catch(() => ''))) {
      await this.#writeAtomically(this.manifestPath, new TextEncoder().encode(text))
    }
    return { manifest, results }
  }

  async #buildModel(
    spec: ModelSpec,
    previous: ModelManifestEntry | undefined,
    calibration: unknown
  ) {
    const started = performance.now()
    const packageDir = join(this.paths.rootDir, 'node_modules', spec.source.package)
    const packageJson = await readJson<{ version: string }>(join(packageDir, 'package.json'))
    if (!packageJson) throw new Error(`${spec.source.package} is not installed; run "npm ci"`)
    const files: SourceFile[] = []
    for (const path of spec.source.files) {
      files.push({ path, sha256: sha256(await readFile(join(packageDir, path))) })
    }
    const source = {
      package: spec.source.package,
      version: packageJson.version,
      origin: spec.source.origin,
      files,
    }
    const file = `${spec.id}.onnx`
    const describe = (
      built: Pick<ModelManifestEntry, 'sha256' | 'bytes' | 'inputs' | 'outputs'>
    ) => {
      const entry: ModelManifestEntry = {
        file,
        sha256: built.sha256,
        bytes: built.bytes,
        description: spec.description,
        source,
        licence: spec.licence,
        inputs: built.inputs,
        outputs: built.outputs,
        preprocessing: spec.preprocessing,
        decoding: spec.decoding,
      }
      if (calibration !== undefined) entry.calibration = calibration
      return entry
    }

    if (
      previous &&
      sameSources(previous.source, source) &&
      (await fileSha256(join(this.paths.outDir, file))) === previous.sha256
    ) {
      const { sha256: digest, bytes, inputs, outputs } = previous
      const entry = describe({ sha256: digest, bytes, inputs, outputs })
      return {
        id: spec.id,
        status: 'unchanged',
        milliseconds: performance.now() - started,
        entry,
      } as const
    }

    const graph = await spec.build(packageDir)
    const bytes = graph.toBytes(
      {
        id: spec.id,
        source: `${source.package}@${source.version}`,
        builderVersion: String(BUILDER_VERSION),
      },
      String(BUILDER_VERSION)
    )
    await this.#writeAtomically(join(this.paths.outDir, file), bytes)
    const entry = describe({
      sha256: sha256(bytes),
      bytes: bytes.byteLength,
      inputs: graph.inputs,
      outputs: graph.outputs,
    })
    return {
      id: spec.id,
      status: 'built',
      milliseconds: performance.now() - started,
      entry,
    } as const
  }

  /**
   * A running engine may be reading the previous file; a rename swaps it
   * without ever exposing a half-written one.
   */
  async #writeAtomically(path: string, data: Uint8Array) {
    const temporary = `${path}.${process.pid}.tmp`
    await writeFile(temporary, data)
    await rename(temporary, path)
  }
}
