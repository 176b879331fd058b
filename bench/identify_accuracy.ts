/**
 * npm run bench:accuracy -- [--lfw=../shared/data/faces-lfw-dev]
 *   [--faces-dev=../shared/data/faces-dev] [--port=3479] [--concurrency=2] [--margin=0.03]
 *
 * Recognition as a terminal sees it: measured from outside, through the
 * running server and the protocol. Makes a fresh SQLite database
 * (tmp/bench_accuracy.sqlite3) with one device approved as an installer
 * does (`node ace device:approve BENCH-ACCURACY --legacy --address=127.0.0.1
 * --allow=recognition,database,feedback,enrolment`), starts the server on it
 * with the rate limits raised, and calls it with the repository's terminal
 * client (unsigned legacy calls), `concurrency` calls at a time:
 *
 * 1. faces-lfw-dev pairs.json (1:1): faceDetect, then faceFeature of the
 *    face nearest the centre (LFW photos show other faces at the edges),
 *    then faceRecognize of each pair: 10-fold accuracy, accuracy, FAR and
 *    FRR at the product's 0.6, TAR at FAR 1e-3 and ROC AUC of the score.
 * 2. faces-lfw-dev identification.json (open-set 1:N): regFace of every
 *    gallery entry (a new username each; a photo it refuses, as it refuses
 *    a third of these news photos for pose, blur or a second face, is
 *    enrolled with its faceFeature written to the database while the
 *    server is stopped), then faceIdentify of every probe:
 *    TPIR, misidentification and FPIR at the server's own answer. The
 *    answer carries the best and runner-up scores and the threshold, but
 *    names someone only past the threshold, so whether a probe's best
 *    match is its own person is found by comparing it with its gallery
 *    photo (faceFeature of the probe without a box, as faceIdentify takes
 *    the largest face, and the feature the server stored for the photo,
 *    then faceRecognize): rank 1 is right when that score is the best score. From these the same measures follow for
 *    other rules: the 1:1 threshold, and the threshold that holds FPIR at
 *    1% on the non-mated best scores, each with and without the margin
 *    over the runner-up (IDENTIFY_MARGIN, which the answer does not carry:
 *    --margin).
 * 3. faces-dev detection.json: faceDetect misses and false faces by category;
 *    then every tenth LFW image darkened (×0.22, noise), shrunk to a 40 px
 *    face, and in groups of three, and pictures without a face.
 * 4. faces-dev age_gender.json: faceAge and faceGender of each crop.
 * 5. Latency of each endpoint's call (the token call before it not counted).
 *
 * The images are read from the dataset folders at run time; nothing of
 * them is copied. Needs Redis (REDIS_* as for the server) and the models
 * (node ace models:build); SQLite only. Progress goes to stderr, tables to
 * stdout.
 */
import { readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import sharp from 'sharp'
import { decodeFeature, encodeFeature } from '#faces/feature_blob'
import {
  FacesApiClient,
  FacesApiError,
  type FacesApiAnswer,
  type FacesApiFields,
} from '#terminal-client/faces_api_client'
import { empiricalThreshold, rocAuc } from '#plugins/face_engine/calibration'
import {
  approvedDevice,
  legacyEverything,
  migrate,
  sqliteNow,
  startServer,
  stopServer,
} from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    'lfw': { type: 'string', default: '../shared/data/faces-lfw-dev' },
    'faces-dev': { type: 'string', default: '../shared/data/faces-dev' },
    'port': { type: 'string', default: '3479' },
    'concurrency': { type: 'string', default: '2' },
    'margin': { type: 'string', default: '0.03' },
    'only': { type: 'string', default: 'verification,identification,detection,age' },
  },
})
const sections = new Set(values.only.split(','))
const lfwFolder = resolve(values.lfw)
const devFolder = resolve(values['faces-dev'])
const concurrency = Number(values.concurrency)
/** How far faceIdentify's best person must lead the next (IDENTIFY_MARGIN; not in the answer). */
const identifyMargin = Number(values.margin)
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'bench_accuracy.sqlite3'
const storageDir = 'tmp/bench_accuracy_storage'
const device = { deviceName: 'Bench accuracy', serialNumber: 'BENCH-ACCURACY' }
/** The product's 1:1 threshold (recognition_engine.ts), as terminals apply it to faceRecognize. */
const productThreshold = 0.6
/** Answers carry scores floored to four decimals. */
const scoreStep = 1e-4
const noFace = 9006

interface Pair {
  a: string
  b: string
  same: boolean
  fold: number
}
interface Entry {
  identity: string
  file: string
}
interface DetectionCase {
  file: string
  category: string
  faces_min: number
  faces_max: number | null
}
interface AgeGenderCase {
  file: string
  age: number
  age_bucket: string
  gender: 'male' | 'female'
}
type Identified = {
  named: string | null
  score: number | null
  runnerUp: number | null
  threshold: number | null
}
type Box = { left: number; top: number; right: number; bottom: number }

const readJson = async <T>(folder: string, file: string) =>
  JSON.parse(await readFile(join(folder, file), 'utf8')) as T
const percent = (value: number, digits = 2) => `${(value * 100).toFixed(digits)}%`
const ratio = (count: number, total: number) => `${percent(count / total)} (${count}/${total})`

const latencies = new Map<string, number[]>()
const client = new FacesApiClient(origin, device)

/**
 * One protocol call with a fresh token; only the call itself is timed.
 * Success and "no face" are answers; any other code stops the bench.
 */
async function call(
  endpoint: string,
  fields: FacesApiFields,
  image?: Uint8Array
): Promise<FacesApiAnswer> {
  const token = await client.token()
  const started = performance.now()
  const answer = await client.call(
    endpoint,
    { ...fields, token },
    image ? { files: { image: { data: image } } } : {}
  )
  const elapsed = performance.now() - started
  if (!latencies.has(endpoint)) latencies.set(endpoint, [])
  latencies.get(endpoint)!.push(elapsed)
  if (answer.code !== 0 && answer.code !== noFace) throw new FacesApiError(answer)
  return answer
}

/** Runs `work` over `items`, `concurrency` at a time, with progress on stderr. */
async function each<Item, Result>(
  label: string,
  items: readonly Item[],
  work: (item: Item) => Promise<Result>
): Promise<Result[]> {
  const results: Result[] = new Array(items.length)
  const started = performance.now()
  let next = 0
  let done = 0
  let reported = started
  const report = () => {
    const seconds = (performance.now() - started) / 1000
    process.stderr.write(
      `[${label}] ${done}/${items.length} in ${seconds.toFixed(0)} s (${(done / seconds).toFixed(1)}/s)\n`
    )
  }
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++
        results[index] = await work(items[index])
        done++
        if (performance.now() - reported > 10_000) {
          reported = performance.now()
          report()
        }
      }
    })
  )
  report()
  return results
}

/** `left`, `top`, `right`, `bottom` of each face faceDetect found; none for 9006. */
function detectedBoxes(answer: FacesApiAnswer): Box[] {
  if (answer.code === noFace) return []
  return (answer.faceContent as Box[]).map(({ left, top, right, bottom }) => ({
    left,
    top,
    right,
    bottom,
  }))
}

const area = (box: Box) => (box.right - box.left) * (box.bottom - box.top)

type CentralFeature = {
  feature: string | null
  /** The face nearest the centre is not the largest one found. */
  notLargest: boolean
  /** faceDetect found no face and faceFeature without a box was asked instead. */
  fallback: boolean
}

/** The feature of the face nearest the centre of the photo, as LFW asks. */
async function centralFeature(file: string): Promise<CentralFeature> {
  const image = await readFile(join(lfwFolder, file))
  const boxes = detectedBoxes(await call('faceDetect', {}, image))
  if (boxes.length === 0) {
    const answer = await call('faceFeature', {}, image)
    return {
      feature: answer.code === 0 ? String(answer.feature) : null,
      notLargest: false,
      fallback: true,
    }
  }
  const { width = 0, height = 0 } = await sharp(image).metadata()
  const distance = (box: Box) =>
    Math.hypot((box.left + box.right) / 2 - width / 2, (box.top + box.bottom) / 2 - height / 2)
  const central = boxes.reduce((best, box) => (distance(box) < distance(best) ? box : best))
  const largest = boxes.reduce((best, box) => (area(box) > area(best) ? box : best))
  let answer = await call('faceFeature', { ...central }, image)
  const fallback = answer.code !== 0
  if (fallback) answer = await call('faceFeature', {}, image)
  return {
    feature: answer.code === 0 ? String(answer.feature) : null,
    notLargest: central !== largest,
    fallback,
  }
}

/** The feature of the largest face, as regFace and faceIdentify take it. */
async function largestFeature(file: string) {
  const answer = await call('faceFeature', {}, await readFile(join(lfwFolder, file)))
  return answer.code === 0 ? String(answer.feature) : null
}

async function recognize(pending: string, original: string) {
  const answer = await call('faceRecognize', { pending, original })
  return Number(answer.score)
}

/**
 * The threshold (accept at or above) that classifies the most pairs right;
 * between two neighbouring distinct scores, so that it reads as a cut.
 */
function bestThreshold(pairs: { score: number; same: boolean }[]) {
  const sorted = [...pairs].sort((first, second) => first.score - second.score)
  let correct = sorted.filter((pair) => pair.same).length
  let best = { correct, threshold: -Infinity }
  for (let i = 0; i < sorted.length;) {
    const score = sorted[i].score
    for (; i < sorted.length && sorted[i].score === score; i++) correct += sorted[i].same ? -1 : 1
    if (correct > best.correct) {
      const above = i < sorted.length ? sorted[i].score : score + scoreStep
      best = { correct, threshold: Number.isFinite(score) ? (score + above) / 2 : above }
    }
  }
  return best.threshold
}

/** How many scores reach `threshold`. */
const accepted = (scores: number[], threshold: number) =>
  scores.filter((score) => score >= threshold).length

const mean = (numbers: number[]) => numbers.reduce((sum, value) => sum + value, 0) / numbers.length
const deviation = (numbers: number[]) => {
  const average = mean(numbers)
  return Math.sqrt(mean(numbers.map((value) => (value - average) ** 2)))
}

async function verification() {
  const { pairs } = await readJson<{ pairs: Pair[] }>(lfwFolder, 'pairs.json')
  const files = [...new Set(pairs.flatMap((pair) => [pair.a, pair.b]))]
  const centrals = await each('1:1 faceDetect + faceFeature', files, centralFeature)
  const features = new Map(files.map((file, index) => [file, centrals[index].feature]))
  const scores = await each('1:1 faceRecognize', pairs, async (pair) => {
    const [a, b] = [features.get(pair.a), features.get(pair.b)]
    return a && b ? recognize(a, b) : null
  })

  /** A pair with no face in one of its photos is never accepted and counts as wrong in accuracy. */
  const scored = pairs.map((pair, index) => ({ ...pair, score: scores[index] ?? -Infinity }))
  const missed = pairs.filter((_, index) => scores[index] === null)
  const genuine = scored.filter((pair) => pair.same).map((pair) => pair.score)
  const impostors = scored.filter((pair) => !pair.same).map((pair) => pair.score)
  const isRight = (pair: (typeof scored)[number], threshold: number) =>
    Number.isFinite(pair.score) && pair.score >= threshold === pair.same

  const folds = [...new Set(pairs.map((pair) => pair.fold))].sort((a, b) => a - b)
  const foldResults = folds.map((fold) => {
    const threshold = bestThreshold(
      scored.filter((pair) => pair.fold !== fold && Number.isFinite(pair.score))
    )
    const tested = scored.filter((pair) => pair.fold === fold)
    const accuracy = tested.filter((pair) => isRight(pair, threshold)).length / tested.length
    return { fold, threshold, accuracy, pairs: tested.length }
  })
  const accuracies = foldResults.map((result) => result.accuracy)
  const thresholds = foldResults.map((result) => result.threshold)

  const atProduct = scored.filter((pair) => isRight(pair, productThreshold)).length
  const tarThreshold = empiricalThreshold(impostors, 1e-3)

  console.log(
    `\n1:1 verification: ${join(lfwFolder, 'pairs.json')}: ${genuine.length} genuine + ${impostors.length} impostor pairs in ${folds.length} folds, ${files.length} images`
  )
  const notLargest = centrals.filter((central) => central.notLargest).length
  const fallbacks = centrals.filter((central) => central.fallback).length
  const faceless = files.filter((file) => features.get(file) === null)
  console.log(
    `  feature of the face nearest the centre (faceDetect, then faceFeature with its box): not the largest face in ${notLargest} images; ` +
      `faceFeature without a box in ${fallbacks}; no face in ${faceless.length}${faceless.length ? ` (${faceless.join(', ')})` : ''}`
  )
  console.log(
    `  pairs with a photo without a face: ${missed.length} (${missed.filter((pair) => pair.same).length} genuine, ${missed.filter((pair) => !pair.same).length} impostor): never accepted, counted wrong in every accuracy`
  )
  console.table([
    {
      metric: '10-fold accuracy (threshold from the other nine folds)',
      value: `${percent(mean(accuracies))} ± ${percent(deviation(accuracies))}`,
    },
    {
      metric: '10-fold thresholds picked',
      value: `${Math.min(...thresholds).toFixed(4)}–${Math.max(...thresholds).toFixed(4)} (mean ${mean(thresholds).toFixed(4)})`,
    },
    {
      metric: `accuracy at the product's ${productThreshold}`,
      value: ratio(atProduct, scored.length),
    },
    {
      metric: `FAR at ${productThreshold}`,
      value: ratio(accepted(impostors, productThreshold), impostors.length),
    },
    {
      metric: `FRR at ${productThreshold}`,
      value: ratio(genuine.length - accepted(genuine, productThreshold), genuine.length),
    },
    {
      metric: 'TAR at FAR 1e-3',
      value: `${ratio(accepted(genuine, tarThreshold), genuine.length)} at score > ${tarThreshold.toFixed(4)} (FAR ${ratio(accepted(impostors, tarThreshold), impostors.length)})`,
    },
    { metric: 'ROC AUC', value: rocAuc(genuine, impostors).toFixed(4) },
  ])
  console.table(
    foldResults.map((result) => ({
      fold: result.fold,
      pairs: result.pairs,
      threshold: result.threshold.toFixed(4),
      accuracy: percent(result.accuracy),
    }))
  )
}

async function identification() {
  const sets = await readJson<{
    gallery: (Entry & { distractor?: boolean })[]
    probes_mated: Entry[]
    probes_nonmated: Entry[]
  }>(lfwFolder, 'identification.json')
  /** Usernames follow the people pages' rule: letters, digits and . _ @ - only. */
  const username = (identity: string) =>
    `lfw.${identity.toLowerCase().replace(/[^\p{L}\p{N}._@-]/gu, '-')}`.slice(0, 64)

  /**
   * The one enrolment path refuses photos a site would retake (poor
   * quality, a face too like someone enrolled already): counted with
   * their reasons, and their people's probes measured apart.
   */
  const outcomes = await each('1:N regFace', sets.gallery, async (entry) => {
    const photo = await readFile(join(lfwFolder, entry.file))
    try {
      const answer = await call('regFace', {
        username: username(entry.identity),
        faceName: entry.identity.replace(/_/g, ' '),
        picBase64: photo.toString('base64'),
      })
      return answer.code === 0 ? null : 'no face'
    } catch (error) {
      if (!(error instanceof FacesApiError) || error.answer.flag !== 'regFace') throw error
      return `${error.answer.code}: ${error.answer.message}`
    }
  })
  const notEnrolled = sets.gallery.filter((_, index) => outcomes[index] !== null)
  const refusals = new Map<string, number>()
  for (const outcome of outcomes) {
    if (outcome !== null) refusals.set(outcome, (refusals.get(outcome) ?? 0) + 1)
  }
  const enrolledPeople = new Set(
    sets.gallery.filter((_, index) => outcomes[index] === null).map((entry) => entry.identity)
  )
  /*
   * A site would retake those photos; to measure recognition over the
   * whole gallery, each is enrolled with the feature the server computes
   * for its largest face (faceFeature), written to the database while the
   * server is stopped, as an operator's accepted photo would be.
   */
  const imported = await each('1:N faceFeature, photos regFace refused', notEnrolled, (entry) =>
    largestFeature(entry.file)
  )
  await stopServer(server)
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const insertPerson = sqlite.prepare(
    `insert into people (username, display_name, status, revision, created_at, updated_at)
     values (?, ?, 'active', 0, ?, ?)`
  )
  const insertFace = sqlite.prepare(
    `insert into faces (person_id, embedding, engine, model_id, dimension, source, created_at)
     values (?, ?, 'engine', ?, ?, 'api', ?)`
  )
  let importedCount = 0
  sqlite.exec('begin')
  notEnrolled.forEach((entry, index) => {
    const blob = imported[index]
    const decoded = blob ? decodeFeature(blob) : null
    if (!decoded?.ok) return
    const { model, vector } = decoded.feature
    const id = insertPerson.run(
      username(entry.identity),
      entry.identity.replace(/_/g, ' '),
      now,
      now
    ).lastInsertRowid
    insertFace.run(
      id,
      Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
      model,
      vector.length,
      now
    )
    importedCount++
  })
  sqlite.exec('commit')
  sqlite.close()
  server = await startBenchServer()

  const identify = async (probe: Entry): Promise<Identified> => {
    const answer = await call('faceIdentify', {}, await readFile(join(lfwFolder, probe.file)))
    if (answer.code === noFace) return { named: null, score: null, runnerUp: null, threshold: null }
    const person = answer.person as { username: string } | null
    const optional = (value: unknown) => (typeof value === 'number' ? value : null)
    return {
      named: person?.username ?? null,
      score: Number(answer.score),
      runnerUp: optional(answer.runnerUpScore),
      threshold: optional(answer.threshold),
    }
  }
  const mated = await each('1:N faceIdentify, mated', sets.probes_mated, identify)
  const nonMated = await each('1:N faceIdentify, non-mated', sets.probes_nonmated, identify)

  const galleryOf = new Map(sets.gallery.map((entry) => [entry.identity, entry.file]))
  /*
   * The feature the server holds for each gallery photo, as enrolment
   * made it (it looks for every face, to refuse group photos, so its
   * landmarks and feature differ slightly from faceFeature's).
   */
  const readOnly = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  const storedFace = readOnly.prepare(
    `select faces.embedding, faces.model_id from faces
       join people on people.id = faces.person_id where people.username = ?`
  )
  const mateFeatures = new Map<string, string | null>()
  for (const entry of sets.gallery) {
    const row = storedFace.get(username(entry.identity)) as
      { embedding: Uint8Array; model_id: string } | undefined
    const vector = row
      ? new Float32Array(
          row.embedding.buffer.slice(
            row.embedding.byteOffset,
            row.embedding.byteOffset + row.embedding.byteLength
          )
        )
      : null
    mateFeatures.set(
      entry.file,
      row && vector ? encodeFeature({ model: row.model_id, vector }) : null
    )
  }
  readOnly.close()
  /** The probe's score against its own gallery photo, or null without a face in either. */
  const mateScores = await each(
    '1:N faceFeature + faceRecognize, mated probes',
    sets.probes_mated,
    async (probe) => {
      const mate = mateFeatures.get(galleryOf.get(probe.identity)!)
      const feature = await largestFeature(probe.file)
      return mate && feature ? recognize(feature, mate) : null
    }
  )

  const total = { mated: mated.length, nonMated: nonMated.length }
  const probes = mated.map((result, index) => ({
    ...result,
    right: result.named === username(sets.probes_mated[index].identity),
    rankOne:
      result.score !== null &&
      mateScores[index] !== null &&
      mateScores[index]! >= result.score - scoreStep / 2,
  }))
  const correct = probes.filter((result) => result.right).length
  const wrong = probes.filter((result) => result.named !== null && !result.right).length
  const falsePositives = nonMated.filter((result) => result.named !== null).length
  const named = probes.filter((result) => result.named !== null)
  const agree = named.filter((result) => result.right === result.rankOne)
  const serverThresholds = [
    ...new Set([...mated, ...nonMated].flatMap((result) => result.threshold ?? [])),
  ]
  const hasRunnerUp = [...mated, ...nonMated].some((result) => result.runnerUp !== null)

  /**
   * Who a rule names, from the answered scores: the best person when
   * their score reaches `threshold` and leads the runner-up by `margin`.
   */
  const leads = (result: Identified, margin: number) =>
    result.runnerUp === null || result.score! - result.runnerUp >= margin - scoreStep / 2
  const passes = (result: Identified, threshold: number, margin: number) =>
    result.score !== null && result.score >= threshold && leads(result, margin)
  /** The lowest threshold at which at most 1% of the non-mated probes are named. */
  const atFpir = (margin: number) =>
    empiricalThreshold(
      nonMated.map((result) =>
        result.score !== null && leads(result, margin) ? result.score : -Infinity
      ),
      0.01
    )
  const rule = (label: string, threshold: number, margin: number, above = false) => {
    const passed = probes.filter((result) => passes(result, threshold, margin))
    return {
      'rule (from the answered scores)': label,
      'threshold': Number.isFinite(threshold)
        ? `${above ? '>' : '≥'} ${threshold.toFixed(4)}`
        : 'any',
      'margin': margin.toFixed(2),
      'TPIR': ratio(passed.filter((result) => result.rankOne).length, total.mated),
      'misidentified': ratio(passed.filter((result) => !result.rankOne).length, total.mated),
      'FPIR': ratio(
        nonMated.filter((result) => passes(result, threshold, margin)).length,
        total.nonMated
      ),
    }
  }
  const rules = [
    ...serverThresholds.map((threshold) =>
      rule("the server's threshold and margin (its answer again)", threshold, identifyMargin)
    ),
    rule(`the 1:1 threshold ${productThreshold}, no margin`, productThreshold, 0),
    ...(hasRunnerUp
      ? [
          rule(
            `the 1:1 threshold ${productThreshold} and the margin`,
            productThreshold,
            identifyMargin
          ),
        ]
      : []),
    rule('FPIR 1% on the non-mated best scores, no margin', atFpir(0), 0, true),
    ...(hasRunnerUp
      ? [
          rule(
            'FPIR 1% on the non-mated best scores, with the margin',
            atFpir(identifyMargin),
            identifyMargin,
            true
          ),
        ]
      : []),
    rule('rank 1, any score', -Infinity, 0),
  ]

  console.log(
    `\nOpen-set 1:N identification: ${join(lfwFolder, 'identification.json')}: gallery ${sets.gallery.length} (${sets.gallery.filter((entry) => entry.distractor).length} distractors), ${total.mated} mated and ${total.nonMated} non-mated probes`
  )
  console.log(
    `  regFace and faceIdentify take the largest face. Gallery photos regFace refused: ${notEnrolled.length}${notEnrolled.length ? ` (${[...refusals].map(([reason, count]) => `${count} × ${reason}`).join('; ')})` : ''}; ` +
      `of those, enrolled from their faceFeature straight into the database: ${importedCount}; ` +
      `probes without a face: ${mated.filter((result) => result.score === null).length} mated, ${nonMated.filter((result) => result.score === null).length} non-mated (named no one)`
  )
  console.log(
    `  the server's threshold in its answers: ${serverThresholds.length ? serverThresholds.join(', ') : 'none (not in the answer)'}; runner-up score in the answers: ${hasRunnerUp ? 'yes' : 'no'}; margin assumed ${identifyMargin} (--margin, as IDENTIFY_MARGIN)`
  )
  console.log(
    `  rank 1 from the mate's score (faceRecognize of the probe with its stored gallery feature equals the best score): agrees with the server's naming for ${agree.length} of ${named.length} named mated probes`
  )
  console.table([
    {
      "the server's answer": 'TPIR (mated probe named correctly)',
      'value': ratio(correct, total.mated),
    },
    {
      "the server's answer": 'TPIR over the mated probes whose photo regFace took',
      'value': ratio(
        probes.filter(
          (result, index) => result.right && enrolledPeople.has(sets.probes_mated[index].identity)
        ).length,
        sets.probes_mated.filter((probe) => enrolledPeople.has(probe.identity)).length
      ),
    },
    {
      "the server's answer": 'misidentification (mated probe named as someone else)',
      'value': ratio(wrong, total.mated),
    },
    {
      "the server's answer": 'FNIR (mated probe named no one)',
      'value': ratio(total.mated - correct - wrong, total.mated),
    },
    {
      "the server's answer": 'FPIR (non-mated probe named as anyone)',
      'value': ratio(falsePositives, total.nonMated),
    },
  ])
  console.table(rules)
}

async function detection() {
  const { cases } = await readJson<{ cases: DetectionCase[] }>(devFolder, 'detection.json')
  const found = await each('faceDetect, faces-dev', cases, async (entry) => {
    const answer = await call('faceDetect', {}, await readFile(join(devFolder, entry.file)))
    return detectedBoxes(answer).length
  })
  const results = cases.map((entry, index) => ({
    ...entry,
    found: found[index],
    missed: found[index] < entry.faces_min,
    falseFaces: entry.faces_max !== null && found[index] > entry.faces_max,
  }))
  const categories = [...new Set(cases.map((entry) => entry.category))]
  console.log(`\nDetection: ${join(devFolder, 'detection.json')}: ${cases.length} cases`)
  console.table(
    categories.map((category) => {
      const inCategory = results.filter((result) => result.category === category)
      return {
        'category': category,
        'cases': inCategory.length,
        'missed (< faces_min)': inCategory.filter((result) => result.missed).length,
        'false faces (> faces_max)': inCategory.filter((result) => result.falseFaces).length,
      }
    })
  )
  const wrong = results.filter((result) => result.missed || result.falseFaces)
  for (const result of wrong) {
    const expected =
      result.faces_max === result.faces_min
        ? `${result.faces_min}`
        : `${result.faces_min}–${result.faces_max ?? '∞'}`
    console.log(`  ${result.file}: ${result.found} faces found, ${expected} expected`)
  }
}

/** A seeded standard normal generator (Box–Muller), for repeatable sensor noise. */
function gaussian(seed: number) {
  let state = seed >>> 0
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return (state + 0.5) / 4_294_967_296
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

/** The photo dimmed (×0.22) with sensor noise (σ 4 of 255), as a dim door camera sees it. */
async function darkened(image: Buffer, seed: number, gain = 0.22, sigma = 4) {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  const noise = gaussian(seed)
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.max(0, Math.min(255, Math.round(data[i] * gain + noise() * sigma)))
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()
}

/** The photo shrunk so that its face is about 40 px wide, on a 640×480 grey frame. */
async function small(image: Buffer) {
  const shrunk = await sharp(image).resize(100, 100).toBuffer()
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a7a7a' } })
    .composite([{ input: shrunk, left: 270, top: 190 }])
    .jpeg({ quality: 90 })
    .toBuffer()
}

/** Three photos side by side: a group of three. */
async function group(images: Buffer[]) {
  return sharp({ create: { width: 750, height: 250, channels: 3, background: '#000000' } })
    .composite(images.map((input, index) => ({ input, left: index * 250, top: 0 })))
    .jpeg({ quality: 90 })
    .toBuffer()
}

/** Pictures with no face at all: flat, noise, a gradient. */
async function withoutFaces(seed: number) {
  const noise = gaussian(seed)
  const data = Buffer.alloc(320 * 240 * 3)
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.max(0, Math.min(255, Math.round(128 + noise() * 40)))
  }
  return [
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#404040' } })
      .jpeg()
      .toBuffer(),
    await sharp(data, { raw: { width: 320, height: 240, channels: 3 } })
      .jpeg()
      .toBuffer(),
    await sharp(
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><defs><linearGradient id="g"><stop offset="0" stop-color="#111"/><stop offset="1" stop-color="#eee"/></linearGradient></defs><rect width="320" height="240" fill="url(#g)"/></svg>`
      )
    )
      .jpeg()
      .toBuffer(),
  ]
}

/**
 * Detection where terminals lose people: every tenth image of the 1:1
 * set (a face each) darkened with noise and shrunk to a 40 px face, and
 * groups of three of them; plus pictures without a face.
 */
async function hardDetection() {
  const { pairs } = await readJson<{ pairs: Pair[] }>(lfwFolder, 'pairs.json')
  const files = [...new Set(pairs.flatMap((pair) => [pair.a, pair.b]))].sort()
  const sample = files.filter((_, index) => index % 10 === 0)
  const photos = await Promise.all(sample.map((file) => readFile(join(lfwFolder, file))))
  const count = async (label: string, pictures: Buffer[]) =>
    each(label, pictures, async (picture) => {
      const answer = await call('faceDetect', {}, picture)
      return detectedBoxes(answer).length
    })
  const asSent = await count('faceDetect, as taken', photos)
  const dark = await count(
    'faceDetect, darkened',
    await Promise.all(photos.map((photo, index) => darkened(photo, index + 1)))
  )
  const darker = await count(
    'faceDetect, darker',
    await Promise.all(photos.map((photo, index) => darkened(photo, index + 1, 0.1, 8)))
  )
  const tiny = await count(
    'faceDetect, 40 px',
    await Promise.all(photos.map((photo) => small(photo)))
  )
  const groups: Buffer[][] = []
  for (let start = 0; start + 3 <= photos.length; start += 3)
    groups.push(photos.slice(start, start + 3))
  const grouped = await count('faceDetect, groups', await Promise.all(groups.map(group)))
  const none = await count('faceDetect, no face', await withoutFaces(9))
  console.log(
    `\nHard detection: ${sample.length} LFW images of the 1:1 set (every tenth), each with a face`
  )
  const row = (variant: string, found: number[], expected: number) => ({
    'variant': variant,
    'pictures': found.length,
    'missed': ratio(found.filter((faces) => faces < expected).length, found.length),
    'faces missed': ratio(
      found.reduce((sum, faces) => sum + Math.max(0, expected - faces), 0),
      found.length * expected
    ),
  })
  console.table([
    row('as taken', asSent, 1),
    row('×0.22 brightness, noise σ 4', dark, 1),
    row('×0.10 brightness, noise σ 8', darker, 1),
    row('face about 40 px', tiny, 1),
    row('groups of three', grouped, 3),
  ])
  console.log(
    `  pictures without a face: ${none.filter((faces) => faces > 0).length} of ${none.length} with a false face`
  )
}

async function ageGender() {
  const { cases } = await readJson<{ cases: AgeGenderCase[] }>(devFolder, 'age_gender.json')
  const codes: Record<number, string> = { 0: 'male', 1: 'female', [-1]: 'unknown' }
  const answers = await each('faceAge + faceGender, faces-dev', cases, async (entry) => {
    const image = await readFile(join(devFolder, entry.file))
    const age = await call('faceAge', {}, image)
    const gender = await call('faceGender', {}, image)
    return {
      age: age.code === 0 ? Number(age.age) : null,
      gender: gender.code === 0 ? codes[Number(gender.gender)] : null,
    }
  })
  const results = cases.map((entry, index) => ({ ...entry, answer: answers[index] }))
  const summary = (label: string, subset: typeof results) => {
    const aged = subset.filter((result) => result.answer.age !== null)
    const errors = aged.map((result) => Math.abs(result.answer.age! - result.age))
    const right = subset.filter((result) => result.answer.gender === result.gender).length
    return {
      'crops': label,
      'n': subset.length,
      'age MAE (years)': errors.length ? mean(errors).toFixed(1) : '-',
      'gender accuracy': ratio(right, subset.length),
      'no face': subset.length - aged.length,
      'gender unknown': subset.filter((result) => result.answer.gender === 'unknown').length,
    }
  }
  const buckets = [...new Set(cases.map((entry) => entry.age_bucket))]
  console.log(`\nAge and gender: ${join(devFolder, 'age_gender.json')}: ${cases.length} crops`)
  console.table([
    summary('all', results),
    ...buckets.map((bucket) =>
      summary(
        bucket,
        results.filter((result) => result.age_bucket === bucket)
      )
    ),
  ])
}

function latencyTable() {
  const at = (sorted: number[], share: number) =>
    sorted[Math.floor(share * (sorted.length - 1))].toFixed(1)
  console.log(
    `\nLatency of each call (the token call before it not counted), ${concurrency} concurrent calls`
  )
  console.table(
    [...latencies.entries()].map(([endpoint, times]) => {
      const sorted = [...times].sort((a, b) => a - b)
      return {
        endpoint,
        'calls': sorted.length,
        'p50 ms': at(sorted, 0.5),
        'p95 ms': at(sorted, 0.95),
      }
    })
  )
}

const started = performance.now()
const loadBefore = loadavg()[0].toFixed(2)
await rm(`tmp/${dbFile}`, { force: true })
await rm(storageDir, { recursive: true, force: true })
migrate(dbFile)
approvedDevice(dbFile, device, legacyEverything)
const startBenchServer = () =>
  startServer({
    port: values.port,
    dbFile,
    engine: 'engine',
    env: {
      STORAGE_DIR: storageDir,
      DEVICE_RATE_PER_DEVICE: '100000000',
      DEVICE_TOKEN_RATE_PER_ADDRESS: '100000000',
    },
  })
let server = await startBenchServer()
console.log(
  `${origin}: ${concurrency} concurrent calls, ${availableParallelism()} CPUs shared with the client; datasets ${lfwFolder} and ${devFolder}`
)
try {
  if (sections.has('verification')) await verification()
  if (sections.has('identification')) await identification()
  if (sections.has('detection')) {
    await detection()
    await hardDetection()
  }
  if (sections.has('age')) await ageGender()
  latencyTable()
} finally {
  await stopServer(server)
  for (const suffix of ['', '-wal', '-shm']) await rm(`tmp/${dbFile}${suffix}`, { force: true })
  await rm(storageDir, { recursive: true, force: true })
}
console.log(
  `\n${((performance.now() - started) / 60_000).toFixed(1)} minutes; load average ${loadBefore} before, ${loadavg()[0].toFixed(2)} after`
)
