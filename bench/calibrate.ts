/**
 * npm run bench:calibrate [-- <dataset folder>] [--flip-embedding=true|false]
 *
 * Embeds every face of the dataset (../shared/data/faces-lfw-dev unless a
 * folder is given; faces-dev works too) with each recognition model,
 * compares every image against every image of other people (impostor
 * pairs: millions on faces-lfw-dev) and of the same person (genuine
 * pairs), fits the similarity → score map that puts 0.6 at a false-accept
 * rate of at most 1e-3, writes it to plugins/face_engine/calibration.json
 * and runs `node ace models:build`, which copies it into
 * models/manifest.json next to each model. Features are cached in
 * tmp/bench/ by model file, preprocessing and crop, so bench:engine
 * reuses them.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { createPluginHarness, type FaceFeature, type ScoreCalibration } from '#plugin-sdk'
import { calibratedScore } from '#faces/feature_blob'
import {
  decideOpenSet,
  defaultMargin,
  identificationThreshold,
} from '#faces/open_set_identification'
import { ImageDecoder } from '#faces/image_decoder'
import faceEngine from '#plugins/face_engine/plugin'
import { modelCrops } from '#plugins/face_engine/aligner'
import { fitCalibration } from '#plugins/face_engine/calibration'
import {
  embedderModels,
  flipsByDefault,
  fusedEmbedders,
  isFused,
  networksOf,
  type EmbedderModel,
} from '#plugins/face_engine/embedder'
import type { FaceEngineConfig } from '#plugins/face_engine/face_engine_driver'

export const recognitionModels: EmbedderModel[] = embedderModels

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
  return resolve(argument ?? '../shared/data/faces-lfw-dev')
}

export const option = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]

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
  return manifest.files.flatMap((entry): DatasetImage[] => {
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

/**
 * LFW photos are centred on their person and may show others at the
 * edges: the face nearest the centre is the one to take.
 */
export async function centredOnPerson(folder: string) {
  const manifest = await readJson<{ files: { tags?: string[] }[] }>(folder, 'manifest.json')
  return manifest.files.some((entry) => entry.tags?.some((tag) => tag.startsWith('lfw')))
}

export async function startEngine(config: FaceEngineConfig, poolSize = 1) {
  const harness = await createPluginHarness(
    faceEngine,
    { poolSize, threadsPerSession: 1, ...config },
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
  const found = images.filter((image) => features.get(image.file))
  const vectors = found.map((image) => features.get(image.file)!.vector)
  const genuine: number[] = []
  const impostors = new Float64Array((found.length * (found.length - 1)) / 2)
  let count = 0
  for (let i = 0; i < found.length; i++) {
    const [a, x] = [found[i], vectors[i]]
    for (let j = i + 1; j < found.length; j++) {
      const [b, y] = [found[j], vectors[j]]
      let similarity = 0
      for (let k = 0; k < x.length; k++) similarity += x[k] * y[k]
      if (a.identity !== b.identity) impostors[count++] = similarity
      else if ((a.derivedFrom ?? a.file) !== (b.derivedFrom ?? b.file)) genuine.push(similarity)
    }
  }
  return {
    genuine,
    impostors: impostors.subarray(0, count) as unknown as number[],
    missed: images.length - found.length,
  }
}

export interface EmbeddedDataset {
  features: Map<string, FaceFeature | null>
  /** Milliseconds of the embed stage per face found (both passes when flip-averaged). */
  embedMs: number[]
}

/**
 * Every image's feature from `model`, from tmp/bench/ when the model file
 * is unchanged since they were cached. Two workers embed while the main
 * thread decodes.
 */
export async function embedDataset(
  folder: string,
  images: DatasetImage[],
  model: EmbedderModel,
  flipEmbedding: boolean
): Promise<EmbeddedDataset> {
  const manifest = JSON.parse(await readFile(resolve('models/manifest.json'), 'utf8')) as {
    models: Record<string, { sha256: string; preprocessing: unknown }>
  }
  /* The features change with the model files, their preprocessing or their crops, and the weights. */
  const networks = networksOf(model)
  const version = JSON.stringify([
    ...networks.flatMap((network) => [
      manifest.models[network].sha256,
      manifest.models[network].preprocessing,
      modelCrops[network],
    ]),
    ...(isFused(model) ? [fusedEmbedders[model]] : []),
  ])
  const cacheDir = resolve('tmp/bench', basename(folder))
  const cacheFile = join(cacheDir, `${model}${flipEmbedding ? '-flip' : ''}.json`)
  const cached = await readFile(cacheFile, 'utf8')
    .then((text) => JSON.parse(text) as CachedFeatures)
    .catch(() => undefined)
  if (cached?.version === version && cached.files.length === images.length) {
    return {
      features: new Map(
        cached.files.map(([file, vector]) => [
          file,
          vector ? { model, vector: Float32Array.from(vector) } : null,
        ])
      ),
      embedMs: cached.embedMs,
    }
  }

  const nearCentre = await centredOnPerson(folder)
  const harness = await startEngine({ embedder: model, flipEmbedding }, 2)
  const decoder = new ImageDecoder()
  const features = new Map<string, FaceFeature | null>()
  const embedMs: number[] = []
  let next = 0
  const work = async () => {
    while (next < images.length) {
      const { file } = images[next++]
      const decoded = await decoder.decode(await readFile(join(folder, file)))
      if (!decoded.ok) throw new Error(`${file}: ${decoded.error.message}`)
      const { image } = decoded
      const side = Math.min(image.width, image.height) * 0.4
      const face = nearCentre
        ? {
            left: Math.round((image.width - side) / 2),
            top: Math.round((image.height - side) / 2),
            right: Math.round((image.width + side) / 2),
            bottom: Math.round((image.height + side) / 2),
          }
        : undefined
      const outcome = await harness.call((engine) =>
        engine.analyse!({ image, face }, { feature: true })
      )
      features.set(file, outcome.ok ? outcome.feature! : null)
      if (outcome.ok && outcome.timings?.embed !== undefined) embedMs.push(outcome.timings.embed)
    }
  }
  await Promise.all([work(), work(), work()])
  await harness.stop()

  await mkdir(cacheDir, { recursive: true })
  const entry: CachedFeatures = {
    version,
    embedMs,
    files: images.map(({ file }) => {
      const feature = features.get(file)
      return [file, feature ? Array.from(feature.vector, (value) => +value.toFixed(6)) : null]
    }),
  }
  await writeFile(cacheFile, JSON.stringify(entry))
  return { features, embedMs }
}

interface CachedFeatures {
  version: string
  embedMs: number[]
  files: [string, number[] | null][]
}

type Entry = { identity: string; file: string }

/**
 * faceIdentify's decision replayed on the dataset's open-set split (when
 * it has one), with the calibration just fitted: for a few FPIR targets,
 * the threshold the server would use for a gallery of that size, and the
 * TPIR and FPIR it gives with the default margin. The Settings page shows
 * the point nearest the site's target.
 */
async function measureIdentification(
  folder: string,
  features: Map<string, FaceFeature | null>,
  calibration: ScoreCalibration
) {
  const split = await readFile(join(folder, 'identification.json'), 'utf8').then(
    (text) =>
      JSON.parse(text) as { gallery: Entry[]; probes_mated: Entry[]; probes_nonmated: Entry[] },
    () => null
  )
  if (!split) return null
  const gallery = split.gallery.flatMap((entry, index) => {
    const feature = features.get(entry.file)
    return feature ? [{ personId: index, identity: entry.identity, feature }] : []
  })
  const searchOf = (file: string) => {
    const probe = features.get(file)
    if (!probe) return []
    return gallery
      .map((entry) => ({
        personId: entry.personId,
        identity: entry.identity,
        score: calibratedScore(calibration, cosine(probe, entry.feature)),
      }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 16)
  }
  const mated = split.probes_mated.map((entry) => ({ entry, matches: searchOf(entry.file) }))
  const nonMated = split.probes_nonmated.map((entry) => ({ entry, matches: searchOf(entry.file) }))
  const margin = defaultMargin
  const points = [0.001, 0.01, 0.05].map((targetFpir) => {
    const threshold = identificationThreshold(gallery.length, targetFpir)
    const named = (matches: ReturnType<typeof searchOf>) => {
      const decision = decideOpenSet(matches, threshold, margin)
      return decision.named ? decision.match.identity : null
    }
    const right = mated.filter(({ entry, matches }) => named(matches) === entry.identity).length
    const strangers = nonMated.filter(({ matches }) => named(matches) !== null).length
    return {
      targetFpir,
      threshold: +threshold.toFixed(4),
      fpir: strangers / nonMated.length,
      tpir: right / mated.length,
    }
  })
  return { dataset: basename(folder), galleryFaces: gallery.length, margin, points }
}

async function main() {
  const folder = datasetFolder()
  const flipOption = option('flip-embedding')
  const images = await identityImages(folder)
  const calibrationFile = resolve('plugins/face_engine/calibration.json')
  const calibrations: Record<string, unknown> = {}
  for (const model of recognitionModels) {
    const flipEmbedding = flipOption === undefined ? flipsByDefault[model] : flipOption !== 'false'
    const { features } = await embedDataset(folder, images, model, flipEmbedding)
    const { genuine, impostors, missed } = similarityPairs(images, features)
    const calibration = fitCalibration(
      genuine,
      impostors,
      `${basename(folder)} (${images.length} images${flipEmbedding ? ', flip-averaged' : ''})`
    )
    const identification = await measureIdentification(folder, features, calibration)
    calibrations[model] = identification
      ? { ...calibration, measured: { ...calibration.measured, identification } }
      : calibration
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
