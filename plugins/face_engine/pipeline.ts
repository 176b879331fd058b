import type {
  AlignedFace,
  DetectedFace,
  FaceAnalysis,
  FaceAnalysisRequest,
  Gender,
  LandmarkPoint,
} from '#plugin-sdk'
import { ageGenderSources, estimateAgeGender, type AgeGenderModel } from './age_gender.js'
import { arcFaceCrop, cropTransform, modelCrops, type LocatedFace } from './aligner.js'
import { angleCode } from './angle_code.js'
import { FaceDetector, type FaceCandidate } from './detector.js'
import {
  embedding,
  flipAveragedEmbedding,
  flipsByDefault,
  fusedEmbedding,
  isFused,
  networksOf,
  type EmbedderModel,
  type NetworkEmbedder,
} from './embedder.js'
import { suppressOverlaps, type Box } from './geometry.js'
import { ImagePyramid, type RgbImage } from './image_sampler.js'
import { brightened } from './low_light.js'
import { LandmarkDetector, type FaceLandmarks } from './landmarks.js'
import { livenessScores } from './liveness.js'
import type { ModelEntry } from './model_manifest.js'
import { ModelSessions, type ModelOutputs } from './model_sessions.js'
import { assessQuality } from './quality.js'

export interface PipelineSettings {
  modelsDir: string
  threadsPerSession: number
  detector: 'blazeface'
  landmarks: 'facemesh'
  embedder: EmbedderModel
  /** Average the feature of the aligned face and of its mirror image. */
  flipEmbedding: boolean
  ageGender: AgeGenderModel
  minFaceSize: number
  /** Below this distance of the female probability from 0.5, gender is "unknown". */
  genderMargin: number
}

export interface PipelineJob {
  image: RgbImage
  /** `all` for detection; `one` for the face `near` points at, or the largest. */
  scope: 'all' | 'one'
  near?: Box
  request: FaceAnalysisRequest
}

/** FaceMesh's face-presence score below which a detection is dropped (human uses 0.2). */
const minPresence = 0.5

export function pipelineModels(settings: PipelineSettings) {
  return [
    ...new Set([
      settings.detector,
      settings.landmarks,
      ...networksOf(settings.embedder),
      ...ageGenderSources[settings.ageGender],
      'antispoof',
      'liveness',
    ]),
  ]
}

/**
 * The whole engine for one worker: the sessions it loaded and the stages
 * that use them. Each job decodes nothing and loads nothing; it samples
 * the image it was given through one pyramid and runs only the models
 * the request needs, each at most once per face.
 */
export class FacePipeline {
  #detector: FaceDetector
  #landmarks: LandmarkDetector

  private constructor(
    readonly sessions: ModelSessions,
    private settings: PipelineSettings
  ) {
    this.#detector = new FaceDetector(sessions, settings.detector)
    this.#landmarks = new LandmarkDetector(sessions, settings.landmarks)
  }

  static async load(settings: PipelineSettings, entries: Record<string, ModelEntry>) {
    const sessions = await ModelSessions.load(
      settings.modelsDir,
      entries,
      settings.threadsPerSession
    )
    return new FacePipeline(sessions, settings)
  }

  async run(job: PipelineJob): Promise<FaceAnalysis[]> {
    const timings: Record<string, number> = {}
    const time = async <T>(stage: string, work: () => Promise<T> | T): Promise<T> => {
      const started = performance.now()
      try {
        return await work()
      } finally {
        timings[stage] = (timings[stage] ?? 0) + performance.now() - started
      }
    }

    const find = async (image: RgbImage) => {
      const pyramid = new ImagePyramid(image)
      const detect = (mode: 'all' | 'largest') =>
        time('detect', () =>
          this.#detector.detect(pyramid, {
            minFaceSize: this.settings.minFaceSize,
            mode,
            near: job.near,
          })
        )
      let candidates = await detect(job.scope === 'all' ? 'all' : 'largest')
      let confirmed = await this.#confirm(pyramid, candidates, job, time)
      if (job.scope === 'one' && confirmed.length === 0 && candidates.length > 0 && !job.near) {
        candidates = await detect('all')
        confirmed = await this.#confirm(pyramid, candidates, job, time)
      }
      return { pyramid, found: confirmed }
    }
    // A dim door camera's picture: when nothing shows, look again on a
    // denoised, stretched copy, and describe the face from that copy too.
    let { pyramid, found } = await find(job.image)
    if (found.length === 0) {
      const legible = await time('detect', () => brightened(job.image))
      if (legible) ({ pyramid, found } = await find(legible))
    }

    const faces = suppressOverlaps(
      found.map((entry) => ({ ...entry, box: entry.landmarks.box, score: entry.face.score })),
      0.4
    ).sort((first, second) => area(second.face.box) - area(first.face.box))

    const results: FaceAnalysis[] = []
    for (const { face, located, landmarks } of faces) {
      const analysis: FaceAnalysis = { face, timings }
      const outputs = new Map<string, Promise<ModelOutputs>>()
      const inputs = new Map<string, Promise<Float32Array>>()
      const input = (model: string) => {
        if (!inputs.has(model)) {
          inputs.set(
            model,
            time('align', () =>
              pyramid.sample(
                cropTransform(located, modelCrops[model]),
                modelCrops[model].size,
                modelCrops[model].size,
                this.sessions.entry(model).preprocessing
              )
            )
          )
        }
        return inputs.get(model)!
      }
      const run = (model: string, stage: string) => {
        if (!outputs.has(model)) {
          outputs.set(
            model,
            input(model).then((values) => time(stage, () => this.sessions.run(model, values)))
          )
        }
        return outputs.get(model)!
      }

      if (job.request.feature) {
        const model = (job.request.embedder ?? this.settings.embedder) as EmbedderModel
        const flip =
          model === this.settings.embedder ? this.settings.flipEmbedding : flipsByDefault[model]
        const descriptorOf = async (network: NetworkEmbedder) => {
          const direct = await run(network, 'embed')
          if (!flip) return embedding(network, direct)
          const mirrored = await time('embed', async () =>
            this.sessions.run(network, mirror(await input(network), modelCrops[network].size))
          )
          return flipAveragedEmbedding(network, direct, mirrored)
        }
        const vector = isFused(model)
          ? fusedEmbedding(model, await Promise.all(networksOf(model).map(descriptorOf)))
          : await descriptorOf(model)
        analysis.feature = { model, vector }
      }
      if (job.request.ageGender) {
        const model = this.settings.ageGender
        const sources = await Promise.all(
          ageGenderSources[model].map((source) => run(source, 'ageGender'))
        )
        const estimate = estimateAgeGender(model, Object.assign({}, ...sources))
        analysis.age = Math.round(estimate.age * 10) / 10
        analysis.female = estimate.female
        analysis.gender = genderOf(estimate.female, this.settings.genderMargin)
      }
      if (job.request.liveness) {
        analysis.liveness = livenessScores(
          await run('antispoof', 'liveness'),
          await run('liveness', 'liveness')
        )
      }
      if (job.request.aligned || job.request.quality) {
        const toImage = cropTransform(located, arcFaceCrop)
        const aligned = await time('align', () => pyramid.sampleRgb(toImage, 112, 112))
        if (job.request.aligned) analysis.aligned = aligned as AlignedFace
        if (job.request.quality) {
          analysis.quality = await time('quality', () =>
            assessQuality(job.image, landmarks, aligned, toImage)
          )
        }
      }
      results.push(analysis)
    }
    return results
  }

  /**
   * FaceMesh on each candidate, largest first, keeping those it sees a
   * face in; one is enough when the request is about one face. When the
   * largest-face search stopped at a scale whose only candidates FaceMesh
   * turns down, the caller searches every scale.
   */
  async #confirm(
    pyramid: ImagePyramid,
    candidates: FaceCandidate[],
    job: PipelineJob,
    time: <T>(stage: string, work: () => Promise<T> | T) => Promise<T>
  ) {
    const found: { face: DetectedFace; located: LocatedFace; landmarks: FaceLandmarks }[] = []
    for (const candidate of [...candidates].sort((first, second) => second.size - first.size)) {
      const landmarks = await time('landmarks', () => this.#landmarks.locate(pyramid, candidate))
      if (landmarks.presence < minPresence) continue
      const located: LocatedFace = {
        points: landmarks.points,
        centre: [
          (landmarks.box.left + landmarks.box.right) / 2,
          (landmarks.box.top + landmarks.box.bottom) / 2,
        ],
        size: candidate.size,
        angle: landmarks.angle,
      }
      found.push({ face: describe(landmarks, candidate.score, job.image), located, landmarks })
      if (job.scope === 'one') break
    }
    return found
  }
}

function describe(landmarks: FaceLandmarks, score: number, image: RgbImage): DetectedFace {
  const clamp = (value: number, limit: number) => Math.min(limit, Math.max(0, Math.round(value)))
  const round = (value: number) => Math.round(value * 10) / 10
  return {
    box: {
      left: clamp(landmarks.box.left, image.width),
      top: clamp(landmarks.box.top, image.height),
      right: clamp(landmarks.box.right, image.width),
      bottom: clamp(landmarks.box.bottom, image.height),
    },
    score: Math.round(score * 1000) / 1000,
    landmarks: landmarks.points.map(([x, y]): LandmarkPoint => [
      round(x),
      round(y),
    ]) as DetectedFace['landmarks'],
    angle: round(landmarks.angle),
    angleCode: angleCode(landmarks.angle),
    eyes: {
      left: Math.round(landmarks.eyes.left * 1000) / 1000,
      right: Math.round(landmarks.eyes.right * 1000) / 1000,
    },
    pose: landmarks.pose,
  }
}

/** A square NHWC RGB crop turned left for right. */
function mirror(values: Float32Array, size: number) {
  const mirrored = new Float32Array(values.length)
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const from = (row * size + column) * 3
      const to = (row * size + size - 1 - column) * 3
      mirrored[to] = values[from]
      mirrored[to + 1] = values[from + 1]
      mirrored[to + 2] = values[from + 2]
    }
  }
  return mirrored
}

function genderOf(female: number, margin: number): Gender {
  if (Math.abs(female - 0.5) < margin) return 'unknown'
  return female > 0.5 ? 'female' : 'male'
}

function area(box: Box) {
  return (box.right - box.left) * (box.bottom - box.top)
}
