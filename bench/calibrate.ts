/**
 * npm run bench:calibrate [-- <faces-dev folder>]
 *
 * Embeds every face of faces-dev with each recognition model, compares
 * every image against every image of other people (impostor pairs) and of
 * the same person (genuine pairs), fits the similarity → score map that
 * puts 0.6 at a false-accept rate of at most 1e-3, writes it to
 * plugins/face_engine/calibration.json and runs `node ace models:build`,
 * which copies it into models/manifest.json next to each model.
 */
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createPluginHarness, type FaceFeature, type PluginHarness } from '#plugin-sdk'
import { ImageDecoder } from '#services/image_decoder'
import faceEngine from '#plugins/face_engine/plugin'
import { fitCalibration } from '#plugins/face_engine/calibration'
import type { FaceEngineConfig } from '#plugins/face_engine/face_engine_driver'

const recognitionModels = ['faceapi-recognition', 'faceres'] as const

export interface DatasetImage {
  file: string
  /** Known person, or a distinct one per file for the age/gender crops. */
  identity: string
  /** The faces-dev file this one was made from (a rotation, a darkened copy). */
  derivedFrom: string | null
}

export function datasetFolder(
  argument = process.argv.slice(2).find((arg) => !arg.startsWith('--'))
) {
  return resolve(argument ?? '../shared/data/faces-dev')
}

export async function readJson<T>(folder: string, file: string): Promise<T> {
  return JSON.parse(await readFile(join(folder, file), 'utf8')) as T
}

/**
 * Every single-face image whose person is known. The UTKFace crops carry
 * no identity but are 32 different people, so each counts as its own.
 */
export async function identityImages(folder: string): Promise<DatasetImage[]> {
  const manifest = await readJson<{
    files: { file: string; identity?: string; derived_from?: string; tags?: string[] }[]
  }>(folder, 'manifest.json')
  return manifest.files.flatMap((entry) => {
    if (entry.identity) {
      return [
        { file: entry.file, identity: entry.identity, derivedFrom: entry.derived_from ?? null },
      ]
    }
    if (entry.tags?.includes('age_gender')) {
      return [{ file: entry.file, identity: `utk:${entry.file}`, derivedFrom: null }]
    }
    return []
  })
}

export async function startEngine(config: FaceEngineConfig) {
  const harness = await createPluginHarness(
    faceEngine,
    { poolSize: 1, threadsPerSession: 1, ...config },
    { timeouts: { callMs: 120_000, startMs: 120_000 } }
  )
  await harness.start()
  return harness
}

export function cosine(first: FaceFeature, second: FaceFeature) {
  let sum = 0
  for (let i = 0; i < first.vector.length; i++) sum += first.vector[i] * second.vector[i]
  return sum
}

/**
 * Genuine pairs leave out an image against its own synthetic variant
 * (the same photo turned or darkened), which would flatter the
 * false-reject rate; impostor pairs are every cross-identity pair.
 */
export function similarityPairs(images: DatasetImage[], features: Map<string, FaceFeature | null>) {
  const genuine: number[] = []
  const impostors: number[] = []
  const found = images.filter((image) => features.get(image.file))
  for (let i = 0; i < found.length; i++) {
    for (let j = i + 1; j < found.length; j++) {
      const [a, b] = [found[i], found[j]]
      const similarity = cosine(features.get(a.file)!, features.get(b.file)!)
      if (a.identity !== b.identity) impostors.push(similarity)
      else if ((a.derivedFrom ?? a.file) !== (b.derivedFrom ?? b.file)) genuine.push(similarity)
    }
  }
  return { genuine, impostors, missed: images.length - found.length }
}

async function embedImages(
  harness: PluginHarness<'engine', unknown>,
  folder: string,
  images: DatasetImage[]
) {
  const decoder = new ImageDecoder()
  const features = new Map<string, FaceFeature | null>()
  for (const { file } of images) {
    const decoded = await decoder.decode(await readFile(join(folder, file)))
    if (!decoded.ok) throw new Error(`${file}: ${decoded.error.message}`)
    const outcome = await harness.call((engine) => engine.embed!({ image: decoded.image }))
    features.set(file, outcome.ok ? outcome.feature : null)
  }
  return features
}

async function main() {
  const folder = datasetFolder()
  const images = await identityImages(folder)
  const calibrationFile = resolve('plugins/face_engine/calibration.json')
  const calibrations: Record<string, unknown> = {}
  for (const model of recognitionModels) {
    const harness = await startEngine({ embedder: model })
    const features = await embedImages(harness, folder, images)
    await harness.stop()
    const { genuine, impostors, missed } = similarityPairs(images, features)
    const calibration = fitCalibration(genuine, impostors, `faces-dev (${images.length} images)`)
    calibrations[model] = calibration
    const { measured } = calibration
    console.log(
      `${model.padEnd(20)} ${images.length} images (${missed} without a face), ${genuine.length} genuine and ${impostors.length} impostor pairs: ` +
        `0.6 at similarity ${measured.similarityAtThreshold.toFixed(4)}, FAR ${measured.farAtThreshold.toExponential(2)}, FRR ${(measured.frrAtThreshold * 100).toFixed(2)}%`
    )
  }
  const text = JSON.stringify(calibrations, null, 2).replace(
    /\[\s+(-?[\d.e+-]+),\s+(-?[\d.e+-]+)\s+\]/g,
    '[$1, $2]'
  )
  await writeFile(calibrationFile, `${text}\n`)
  console.log(`Wrote ${calibrationFile}; copying it into models/manifest.json`)
  const build = spawnSync(process.execPath, ['ace', 'models:build'], { stdio: 'inherit' })
  process.exitCode = build.status ?? 1
}

if (import.meta.main) await main()
