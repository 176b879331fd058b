import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PluginError, type ScoreCalibration } from '#plugin-sdk'
import type { Normalisation } from './image_sampler.js'

export interface TensorSpec {
  name: string
  shape: number[]
  type: string
}

/** One entry of `models/manifest.json`, as `node ace models:build` writes it. */
export interface ModelEntry {
  file: string
  sha256: string
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  preprocessing: Normalisation & { layout: string; size: [number, number]; colour: string }
  decoding?: Record<string, unknown>
  calibration?: ScoreCalibration
}

export interface ModelsManifest {
  formatVersion: number
  models: Record<string, ModelEntry>
}

/** A model file or the manifest is missing or not what was built: the cure is always a rebuild. */
export class ModelFileError extends PluginError {
  constructor(message: string) {
    super(message, 'E_ENGINE_MODELS')
  }
}

export async function readModelsManifest(directory: string): Promise<ModelsManifest> {
  const path = join(directory, 'manifest.json')
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
    throw new ModelFileError(`${path} is missing: run "node ace models:build"`)
  })
  const manifest = JSON.parse(text) as ModelsManifest
  if (manifest.formatVersion !== 1) {
    throw new ModelFileError(`${path} has format ${manifest.formatVersion}; this engine reads 1`)
  }
  return manifest
}

/**
 * The manifest entries for `ids`, each file checked against its recorded
 * checksum so that a half-copied or stale model is refused at start
 * instead of producing wrong features.
 */
export async function verifiedModels(directory: string, ids: readonly string[]) {
  const manifest = await readModelsManifest(directory)
  const entries: Record<string, ModelEntry> = {}
  for (const id of ids) {
    const entry = manifest.models[id]
    if (!entry) {
      throw new ModelFileError(
        `Model "${id}" is not in ${directory}/manifest.json: run "node ace models:build"`
      )
    }
    const digest = await fileSha256(join(directory, entry.file)).catch(() => null)
    if (digest !== entry.sha256) {
      throw new ModelFileError(
        `${join(directory, entry.file)} is ${digest ? 'not the file the manifest records' : 'missing'}: run "node ace models:build"`
      )
    }
    entries[id] = entry
  }
  return entries
}

function fileSha256(path: string) {
  return new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject)
  })
}
