/**
 * The recognition comparison bench:engine runs on faces-lfw-dev: every
 * recognition model, with and without flip averaging, on the verification
 * pairs (10 identity-disjoint folds), all cross-identity pairs and the
 * open-set 1:N split, plus a score fusion of the two best descriptors.
 */
import { loadavg } from 'node:os'
import type { FaceFeature } from '#plugin-sdk'
import { rocAuc, tarAtFar } from '#plugins/face_engine/calibration'
import type { EmbedderModel } from '#plugins/face_engine/embedder'
import {
  embedDataset,
  identityImages,
  option,
  readJson,
  recognitionModels,
  similarityPairs,
  type DatasetImage,
} from './calibrate.js'

interface Pair {
  a: string
  b: string
  same: boolean
  fold: number
}

interface Identification {
  gallery: { identity: string; file: string }[]
  probes_mated: { identity: string; file: string }[]
  probes_nonmated: { identity: string; file: string }[]
}

/** Similarity of two images, or null when either yielded no face. */
type Similarity = (a: string, b: string) => number | null

interface Row {
  name: string
  similarity: Similarity
  /** Every genuine and cross-identity similarity of the dataset, for TAR at FAR 1e-3. */
  all: { genuine: number[]; impostors: number[] }
  embedMs?: number[]
  missed: number
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`

function cosineOf(features: Map<string, FaceFeature | null>): Similarity {
  return (a, b) => {
    const [x, y] = [features.get(a), features.get(b)]
    if (!x || !y) return null
    let sum = 0
    for (let i = 0; i < x.vector.length; i++) sum += x.vector[i] * y.vector[i]
    return sum
  }
}

/** Threshold chosen on nine folds (best accuracy), accuracy measured on the tenth. */
function tenFoldAccuracy(pairs: Pair[], similarity: Similarity) {
  const scored = pairs.map((pair) => ({
    ...pair,
    value: similarity(pair.a, pair.b) ?? -Infinity,
  }))
  const folds = [...new Set(scored.map((pair) => pair.fold))]
  const accuracies = folds.map((fold) => {
    const train = scored.filter((pair) => pair.fold !== fold)
    const test = scored.filter((pair) => pair.fold === fold)
    const sorted = [...train].sort((x, y) => y.value - x.value)
    /* Sweep thresholds from high to low: right = genuine above + impostors below. */
    let impostorsBelow = train.filter((pair) => !pair.same).length
    let genuineAbove = 0
    let best = { right: impostorsBelow, threshold: Infinity }
    for (const [index, pair] of sorted.entries()) {
      if (pair.same) genuineAbove++
      else impostorsBelow--
      const next = sorted[index + 1]
      if (next && next.value === pair.value) continue
      if (genuineAbove + impostorsBelow > best.right && Number.isFinite(pair.value)) {
        best = { right: genuineAbove + impostorsBelow, threshold: pair.value }
      }
    }
    return test.filter((pair) => pair.same === pair.value >= best.threshold).length / test.length
  })
  return accuracies.reduce((sum, value) => sum + value, 0) / accuracies.length
}

/**
 * Open-set 1:N: each probe's best gallery match. The threshold lets 1% of
 * non-mated probes' best scores pass (FPIR 1%); TPIR counts mated probes
 * whose best match is their own person at or above it, misidentification
 * those whose best match is someone else at or above it.
 */
function openSet(split: Identification, similarity: Similarity) {
  const best = (file: string) => {
    let found = { identity: '', score: -Infinity }
    for (const entry of split.gallery) {
      const value = similarity(file, entry.file)
      if (value !== null && value > found.score) found = { identity: entry.identity, score: value }
    }
    return found
  }
  const nonMated = split.probes_nonmated.map((probe) => best(probe.file).score)
  const sorted = [...nonMated].sort((x, y) => y - x)
  const allowed = Math.floor(0.01 * sorted.length)
  const threshold = sorted[allowed] + Math.max(1e-9, Math.abs(sorted[allowed]) * 1e-9)
  let identified = 0
  let misidentified = 0
  for (const probe of split.probes_mated) {
    const match = best(probe.file)
    if (match.score < threshold) continue
    if (match.identity === probe.identity) identified++
    else misidentified++
  }
  const mated = split.probes_mated.length
  return {
    tpir: identified / mated,
    misidentified: misidentified / mated,
    fpir: nonMated.filter((score) => score >= threshold).length / nonMated.length,
    threshold,
  }
}

/**
 * Sum of the two models' similarities, each standardised by its own
 * impostor distribution so that neither scale dominates.
 */
function fused(first: Row, second: Row): Row {
  const standardise = (row: Row) => {
    const { impostors } = row.all
    let mean = 0
    for (const value of impostors) mean += value
    mean /= impostors.length
    let variance = 0
    for (const value of impostors) variance += (value - mean) ** 2
    const deviation = Math.sqrt(variance / impostors.length)
    return (value: number) => (value - mean) / deviation
  }
  const [z1, z2] = [standardise(first), standardise(second)]
  const similarity: Similarity = (a, b) => {
    const [x, y] = [first.similarity(a, b), second.similarity(a, b)]
    return x === null || y === null ? null : z1(x) + z2(y)
  }
  const combine = (kind: 'genuine' | 'impostors') =>
    Array.from(first.all[kind], (value, index) => z1(value) + z2(second.all[kind][index]))
  return {
    name: `fusion: ${first.name} + ${second.name}`,
    similarity,
    all: { genuine: combine('genuine'), impostors: combine('impostors') },
    embedMs: first.embedMs?.map((ms, index) => ms + (second.embedMs?.[index] ?? 0)),
    missed: Math.max(first.missed, second.missed),
  }
}

export async function compareRecognitionModels(folder: string) {
  const models = (option('embedders')?.split(',') ?? recognitionModels) as EmbedderModel[]
  const flips = { on: [true], off: [false], both: [false, true] }[option('flip') ?? 'both']!
  const images: DatasetImage[] = await identityImages(folder)
  const { pairs } = await readJson<{ pairs: Pair[] }>(folder, 'pairs.json')
  const split = await readJson<Identification>(folder, 'identification.json')

  const rows: Row[] = []
  for (const model of models) {
    for (const flip of flips) {
      const { features, embedMs } = await embedDataset(folder, images, model, flip)
      const { genuine, impostors, missed } = similarityPairs(images, features)
      rows.push({
        name: `${model}${flip ? ', flip-averaged' : ''}`,
        similarity: cosineOf(features),
        all: { genuine, impostors },
        embedMs,
        missed,
      })
    }
  }

  const measure = (row: Row) => {
    const verification = pairs.map((pair) => ({
      same: pair.same,
      value: row.similarity(pair.a, pair.b) ?? -Infinity,
    }))
    const identification = openSet(split, row.similarity)
    const embedMs = [...(row.embedMs ?? [])].sort((x, y) => x - y)
    return {
      row,
      accuracy: tenFoldAccuracy(pairs, row.similarity),
      auc: rocAuc(
        verification.filter((pair) => pair.same).map((pair) => pair.value),
        verification.filter((pair) => !pair.same).map((pair) => pair.value)
      ),
      tar: tarAtFar(row.all.genuine, row.all.impostors, 1e-3),
      identification,
      ms: embedMs.length ? embedMs[embedMs.length >> 1] : Number.NaN,
    }
  }
  const results = rows.map(measure)
  const ranked = [...results].sort(
    (x, y) =>
      y.identification.tpir - x.identification.tpir || y.accuracy - x.accuracy || x.ms - y.ms
  )
  /* The two best distinct models, each in its better variant. */
  const [best, second] = ranked.filter(
    (result, index) =>
      ranked.findIndex(
        (other) => other.row.name.split(',')[0] === result.row.name.split(',')[0]
      ) === index
  )
  if (best && second) results.push(measure(fused(best.row, second.row)))

  const header = [
    'model',
    '10-fold acc.',
    'AUC (pairs)',
    'TAR @ FAR 1e-3 (all pairs)',
    'TPIR @ FPIR 1%',
    'misident.',
    'threshold',
    'ms embed (median)',
    'no face',
  ]
  const table = results.map((result) => [
    result.row.name,
    percent(result.accuracy),
    result.auc.toFixed(4),
    percent(result.tar),
    percent(result.identification.tpir),
    percent(result.identification.misidentified),
    result.identification.threshold.toFixed(3),
    Number.isNaN(result.ms) ? '' : result.ms.toFixed(1),
    String(result.row.missed),
  ])
  const genuineCount = rows[0]?.all.genuine.length ?? 0
  const impostorCount = rows[0]?.all.impostors.length ?? 0
  console.log(
    `Recognition on ${folder}: ${images.length} images, ${pairs.length} verification pairs, ` +
      `${genuineCount} genuine / ${impostorCount} impostor pairs in all, 1:N gallery ${split.gallery.length}, ` +
      `${split.probes_mated.length} mated + ${split.probes_nonmated.length} non-mated probes; ` +
      `two workers, one thread per session, load average ${loadavg()[0].toFixed(2)}`
  )
  const widths = header.map((_, column) =>
    Math.max(...[header, ...table].map((cells) => cells[column].length))
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => cell.padEnd(widths[index])).join(' | ')} |`
  console.log(line(header))
  console.log(line(widths.map((width) => '-'.repeat(width))))
  for (const cells of table) console.log(line(cells))
}
