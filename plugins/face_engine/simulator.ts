import type {
  AlignedFace,
  DecodedImage,
  DetectedFace,
  EngineInput,
  EngineSimulator,
  FaceAnalysis,
} from '#plugin-sdk'
import type { PipelineJob } from './pipeline.js'

/**
 * A deterministic stand-in for the ONNX engine (config `"engine":
 * "simulated"`), for the contract test and for tests of code that calls an
 * engine without the models built. It answers in the real engine's shapes:
 * an image with any detail holds one face, the central square; a flat
 * image holds none. Its feature is the face's 8×8 grey thumbnail made
 * zero-mean and unit-length, so that the same picture always gives the
 * same feature and different pictures differ.
 */
export class SimulatedEngine {
  readonly status = { workers: 0, busy: 0, queued: 0, broken: null }

  async run(job: PipelineJob): Promise<FaceAnalysis[]> {
    const { image, request } = job
    const side = Math.floor(Math.min(image.width, image.height) * 0.6)
    const left = Math.floor((image.width - side) / 2)
    const top = Math.floor((image.height - side) / 2)
    const thumbnail = greyThumbnail(image, left, top, side)
    const mean = thumbnail.reduce((sum, value) => sum + value, 0) / thumbnail.length
    const spread = Math.sqrt(
      thumbnail.reduce((sum, value) => sum + (value - mean) ** 2, 0) / thumbnail.length
    )
    if (side < 8 || spread < 4) return []

    const at = (x: number, y: number): [number, number] => [left + x * side, top + y * side]
    const face: DetectedFace = {
      box: { left, top, right: left + side, bottom: top + side },
      score: 0.99,
      landmarks: [at(0.34, 0.46), at(0.66, 0.46), at(0.5, 0.64), at(0.37, 0.82), at(0.63, 0.82)],
      angle: 0,
      angleCode: 1,
    }
    const analysis: FaceAnalysis = { face, timings: {} }
    if (request.feature) {
      const vector = Float32Array.from(thumbnail, (value) => (value - mean) / (spread * 8))
      analysis.feature = { model: 'simulated', vector }
    }
    if (request.ageGender) {
      analysis.age = Math.round(18 + (mean / 255) * 50)
      analysis.female = Math.round((thumbnail[0] / 255) * 100) / 100
      analysis.gender = analysis.female > 0.5 ? 'female' : 'male'
    }
    if (request.liveness) analysis.liveness = { antispoof: 0.9, liveness: 0.9 }
    if (request.quality) {
      analysis.quality = { score: 1, acceptable: true, issues: [], measures: { spread } }
    }
    if (request.aligned) analysis.aligned = alignedCrop(image, left, top, side)
    return [analysis]
  }

  async stop() {}
}

function greyThumbnail(image: DecodedImage, left: number, top: number, side: number) {
  const cells = new Float64Array(64)
  const counts = new Float64Array(64)
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = ((top + y) * image.width + left + x) * 3
      const cell = Math.floor((y * 8) / side) * 8 + Math.floor((x * 8) / side)
      cells[cell] += (image.data[p] + image.data[p + 1] + image.data[p + 2]) / 3
      counts[cell]++
    }
  }
  return Array.from(cells, (sum, index) => sum / Math.max(1, counts[index]))
}

function alignedCrop(image: DecodedImage, left: number, top: number, side: number): AlignedFace {
  const data = new Uint8Array(112 * 112 * 3)
  for (let y = 0; y < 112; y++) {
    for (let x = 0; x < 112; x++) {
      const source =
        ((top + Math.floor((y * side) / 112)) * image.width + left + Math.floor((x * side) / 112)) *
        3
      data.set(image.data.subarray(source, source + 3), (y * 112 + x) * 3)
    }
  }
  return { width: 112, height: 112, data }
}

function pattern(width: number, height: number, texture: (x: number, y: number) => number) {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = texture(x, y)
      data.set([value, value, value], (y * width + x) * 3)
    }
  }
  return { width, height, data }
}

/**
 * The engine's peer is the image it is shown: the simulator hands out a
 * textured picture, which the simulated engine sees one face in, and a
 * flat one, which holds none.
 */
export default class FaceEngineSimulator implements EngineSimulator {
  readonly invalidConfigs = [
    { engine: 'gpu' },
    { modelsDir: '' },
    { embedder: 'arcface' },
    { ageGender: 'faceres-v2' },
    { detector: 'retinaface' },
    { threadsPerSession: 0 },
    { threadsPerSession: 1.5 },
    { poolSize: 65 },
    { minFaceSize: 4 },
    { genderMargin: 0.6 },
  ]

  async start() {
    return { engine: 'simulated' }
  }

  async stop() {}

  async sampleInput(): Promise<EngineInput> {
    return { image: pattern(96, 80, (x, y) => (x * 7 + y * 13 + ((x * y) % 17) * 5) % 256) }
  }

  async emptyInput(): Promise<EngineInput> {
    return { image: pattern(96, 80, () => 128) }
  }
}
