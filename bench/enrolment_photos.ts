/**
 * npm run bench:enrolment-photos [-- <dataset folder>] [--splits=40] [--embedder=<id>]
 *
 * faceIdentify's decision with one, two or three enrolment photos per
 * person, searched photo by photo only or also as a whole (the person's
 * template, person_templates.ts), on faces-lfw-dev: people with four or
 * more photos are split at random into enrolled (their last photo is the
 * probe) and strangers (one photo each), beside distractors enrolled with
 * one photo, over `--splits` draws. The threshold is the one the server
 * derives for the gallery searched (1% FPIR target, default margin), the
 * scores those of the model's calibration, the decision decideOpenSet's.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ScoreCalibration } from '#plugin-sdk'
import { calibratedScore } from '#faces/feature_blob'
import {
  decideOpenSet,
  defaultMargin,
  identificationThreshold,
} from '#faces/open_set_identification'
import { personTemplates, type FaceBlock } from '#faces/person_templates'
import { defaultEmbedder, flipsByDefault, type EmbedderModel } from '#plugins/face_engine/embedder'
import { datasetFolder, embedDataset, identityImages, option } from './calibrate.js'

const folder = datasetFolder()
const model = (option('embedder') ?? defaultEmbedder) as EmbedderModel
const splits = Number(option('splits') ?? 40)
const targetFpir = 0.01

const manifest = JSON.parse(await readFile(resolve('models/manifest.json'), 'utf8')) as {
  models: Record<string, { calibration: ScoreCalibration }>
}
const calibration = manifest.models[model].calibration
const images = await identityImages(folder)
const { features } = await embedDataset(folder, images, model, flipsByDefault[model])

const byPerson = new Map<string, Float32Array[]>()
for (const image of images) {
  const feature = features.get(image.file)
  if (!feature) continue
  byPerson.set(image.identity, [...(byPerson.get(image.identity) ?? []), feature.vector])
}
const dimension = [...byPerson.values()][0][0].length
const many = [...byPerson.keys()].filter((person) => byPerson.get(person)!.length >= 4).sort()
const others = [...byPerson.keys()].filter((person) => byPerson.get(person)!.length < 4).sort()

/** mulberry32: the same draws on every run. */
function random(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = Math.imul(state ^ (state >>> 15), 1 | state)
    value ^= value + Math.imul(value ^ (value >>> 7), 61 | value)
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296
  }
}

function shuffled<T>(items: readonly T[], next: () => number) {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy
}

function block(entries: { owner: number; vector: Float32Array }[]): FaceBlock {
  const vectors = new Float32Array(entries.length * dimension)
  entries.forEach((entry, row) => vectors.set(entry.vector, row * dimension))
  return {
    dimension,
    rows: entries.length,
    vectors,
    owners: Int32Array.from(entries.map((entry) => entry.owner)),
  }
}

/** The best calibrated score of each owner over the blocks, best first. */
function ranked(blocks: FaceBlock[], probe: Float32Array) {
  const best = new Map<number, number>()
  for (const { rows, vectors, owners } of blocks) {
    for (let row = 0; row < rows; row++) {
      let dot = 0
      for (let i = 0; i < dimension; i++) dot += vectors[row * dimension + i] * probe[i]
      const score = calibratedScore(calibration, dot)
      if (score > (best.get(owners[row]) ?? -Infinity)) best.set(owners[row], score)
    }
  }
  return [...best]
    .map(([personId, score]) => ({ personId, score }))
    .sort((first, second) => second.score - first.score)
}

type Tally = { tpir: number; misidentified: number; fpir: number; threshold: number }
const results = new Map<string, Tally[]>()
const next = random(20_261_205)
for (let split = 0; split < splits; split++) {
  const people = shuffled(many, next)
  const enrolled = people.slice(0, Math.floor(people.length * 0.6))
  const strangers = [...people.slice(enrolled.length), ...shuffled(others, next).slice(0, 300)]
  const distractors = others.filter((person) => !strangers.includes(person))
  const order = new Map(enrolled.map((person) => [person, shuffled(byPerson.get(person)!, next)]))
  const strangerProbes = strangers.map((person) => shuffled(byPerson.get(person)!, next)[0])
  for (const photos of [1, 2, 3]) {
    const faces = block([
      ...enrolled.flatMap((person, owner) =>
        order
          .get(person)!
          .slice(0, photos)
          .map((vector) => ({ owner, vector }))
      ),
      ...distractors.map((person, index) => ({
        owner: enrolled.length + index,
        vector: byPerson.get(person)![0],
      })),
    ])
    for (const matching of ['each face', 'each face and the person'] as const) {
      const blocks = matching === 'each face' ? [faces] : [faces, personTemplates(faces)]
      const searched = blocks.reduce((sum, searchedBlock) => sum + searchedBlock.rows, 0)
      const threshold = identificationThreshold(searched, targetFpir)
      const decide = (probe: Float32Array) =>
        decideOpenSet(ranked(blocks, probe), threshold, defaultMargin)
      let identified = 0
      let misidentified = 0
      enrolled.forEach((person, owner) => {
        const decision = decide(order.get(person)!.at(-1)!)
        if (!decision.named) return
        if (decision.match.personId === owner) identified++
        else misidentified++
      })
      const named = strangerProbes.filter((probe) => decide(probe).named).length
      const key = `${photos}|${matching}`
      results.set(key, [
        ...(results.get(key) ?? []),
        {
          tpir: identified / enrolled.length,
          misidentified: misidentified / enrolled.length,
          fpir: named / strangerProbes.length,
          threshold,
        },
      ])
    }
  }
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length
const percent = (value: number) => `${(value * 100).toFixed(1)}%`
console.log(
  `faceIdentify with several enrolment photos, ${model}, ${folder}: ${splits} draws of ` +
    `${Math.floor(many.length * 0.6)} enrolled people (last photo probed), ` +
    `${many.length - Math.floor(many.length * 0.6) + 300} strangers, the rest enrolled as distractors`
)
console.log('| photos per person | matched against | TPIR | misidentified | FPIR | threshold |')
console.log('| ----------------- | --------------- | ---- | ------------- | ---- | --------- |')
for (const [key, tallies] of results) {
  const [photos, matching] = key.split('|')
  console.log(
    `| ${photos} | ${matching} | ${percent(mean(tallies.map((t) => t.tpir)))} | ` +
      `${percent(mean(tallies.map((t) => t.misidentified)))} | ` +
      `${percent(mean(tallies.map((t) => t.fpir)))} | ${mean(tallies.map((t) => t.threshold)).toFixed(3)} |`
  )
}
