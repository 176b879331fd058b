import {
  applyAffine,
  clockwiseDegrees,
  squareWindow,
  suppressOverlaps,
  type Affine,
  type Box,
  type Point,
} from './geometry.js'
import type { ImagePyramid } from './image_sampler.js'
import type { ModelSessions } from './model_sessions.js'

/** A face as BlazeFace sees it, in image coordinates. */
export interface FaceCandidate {
  score: number
  centre: Point
  /** The longer side of BlazeFace's box, in image pixels. */
  size: number
  /** Clockwise turn of the face in degrees, from its eyes. */
  angle: number
  box: Box
}

export interface DetectorOptions {
  /** Smallest face to look for, in image pixels (eye to eye is about 40% of it). */
  minFaceSize: number
  /**
   * `all` searches every scale down to `minFaceSize`; `largest` stops at
   * the first scale that holds a face, because every finer scale can only
   * hold smaller ones.
   */
  mode: 'all' | 'largest'
  /** Look only around this box (a terminal's earlier detection). */
  near?: Box
}

/**
 * Thresholds on BlazeFace's score, chosen on faces-dev: upright faces at
 * a scale it likes score 0.85 to 0.97; a face upside down still scores
 * about 0.75 with its keypoints read as upright; textures that look a bit
 * like a face (a rocket's exhaust, a coffee cup) reach 0.66, and 0.79 once
 * looked at again, which is why FaceMesh's presence score has the last word.
 */
const candidateScore = 0.5
const confidentScore = 0.85
const acceptScore = 0.75

/**
 * BlazeFace finds faces from about 12 to 220 pixels wide in its 256-pixel
 * input; 14 keeps a margin at the small end. A whole-frame pass leaves a
 * quarter of the frame's side as black border all round, so that a face
 * filling a tight crop still fits the range.
 */
const inputSize = 256
const smallestFace = 14
const largestFace = 200
const frameMargin = 0.25
/** Where the re-detection window puts the face, in input pixels. */
const verifyFace = 48

export class FaceDetector {
  #anchors: Float32Array

  constructor(
    private sessions: ModelSessions,
    private model: string
  ) {
    this.#anchors = blazeFaceAnchors(inputSize, [16, 32], [2, 6])
  }

  /**
   * Upright first, at every scale. BlazeFace finds faces a quarter turn
   * away on its own and reads their keypoints right; only when nothing at
   * all was found is the whole frame searched again turned a quarter, three
   * quarters and half way round. Only the whole frame: a turned face is a
   * camera mounted sideways or a photo held wrongly, which fill the frame.
   */
  async detect(pyramid: ImagePyramid, options: DetectorOptions): Promise<FaceCandidate[]> {
    if (options.near) return this.#detectNear(pyramid, options.near)

    const levels = planLevels(pyramid.width, pyramid.height, options.minFaceSize)
    let found = await this.#search(pyramid, options, levels, 0)
    for (const turn of [90, 270, 180]) {
      if (found.length > 0) break
      found = await this.#search(pyramid, options, levels.slice(0, 1), turn)
    }
    return found
  }

  async #detectNear(pyramid: ImagePyramid, near: Box) {
    const centre: Point = [(near.left + near.right) / 2, (near.top + near.bottom) / 2]
    const size = Math.max(near.right - near.left, near.bottom - near.top)
    const candidates = await this.#pass(
      pyramid,
      squareWindow(centre, (size * inputSize) / 64, 0, inputSize)
    )
    const verified = await this.#verify(pyramid, suppressOverlaps(candidates, 0.3))
    verified.sort(
      (first, second) =>
        Math.hypot(first.centre[0] - centre[0], first.centre[1] - centre[1]) -
        Math.hypot(second.centre[0] - centre[0], second.centre[1] - centre[1])
    )
    return verified.slice(0, 1)
  }

  /**
   * Coarse to fine: the whole frame first, then tiles at the scales that
   * reach down to `minFaceSize`, each level's tiles overlapping by the
   * largest face the previous level could miss.
   */
  async #search(
    pyramid: ImagePyramid,
    options: DetectorOptions,
    levels: DetectionWindow[][],
    turn: number
  ) {
    const accepted: FaceCandidate[] = []
    for (const level of levels) {
      const candidates: FaceCandidate[] = []
      for (const window of level) {
        candidates.push(
          ...(await this.#pass(pyramid, squareWindow(window.centre, window.side, turn, inputSize)))
        )
      }
      const fresh = suppressOverlaps(candidates, 0.3).filter(
        (candidate) => !accepted.some((face) => overlaps(face, candidate))
      )
      accepted.push(...(await this.#verify(pyramid, fresh)))
      if (options.mode === 'largest' && accepted.length > 0) break
    }
    return suppressOverlaps(
      accepted.filter((face) => face.size >= options.minFaceSize),
      0.3
    )
  }

  /**
   * A candidate that is upright and scored high is a face. Any other is
   * looked at again in a window centred on it, at the turn its eyes
   * suggest and upside down from that, since BlazeFace reads an upside-down
   * face's keypoints as upright; the better of the two must clear
   * `acceptScore`.
   */
  async #verify(pyramid: ImagePyramid, candidates: FaceCandidate[]) {
    const faces: FaceCandidate[] = []
    for (const candidate of candidates) {
      const upright = candidate.angle <= 45 || candidate.angle >= 315
      if (candidate.score >= confidentScore && upright) {
        faces.push(candidate)
        continue
      }
      let best: FaceCandidate | null = null
      for (const turn of [candidate.angle, candidate.angle + 180]) {
        const side = (candidate.size * inputSize) / verifyFace
        const window = squareWindow(candidate.centre, side, turn, inputSize)
        for (const found of await this.#pass(pyramid, window)) {
          const near = Math.hypot(
            found.centre[0] - candidate.centre[0],
            found.centre[1] - candidate.centre[1]
          )
          if (near < candidate.size / 2 && (!best || found.score > best.score)) best = found
        }
      }
      if (best && best.score >= acceptScore) faces.push(best)
    }
    return faces
  }

  /** One BlazeFace run on the 256×256 window `toImage` maps into the image. */
  async #pass(pyramid: ImagePyramid, toImage: Affine): Promise<FaceCandidate[]> {
    const entry = this.sessions.entry(this.model)
    const input = pyramid.sample(toImage, inputSize, inputSize, entry.preprocessing)
    const { regressors, logits } = await this.sessions.run(this.model, input)
    const scale = Math.hypot(toImage.a, toImage.c)
    const candidates: FaceCandidate[] = []
    for (const [i, logit] of logits.entries()) {
      const score = 1 / (1 + Math.exp(-logit))
      if (score < candidateScore) continue
      const ax = this.#anchors[2 * i]
      const ay = this.#anchors[2 * i + 1]
      const r = i * 16
      const size = Math.max(regressors[r + 2], regressors[r + 3])
      if (size < smallestFace * 0.8 || size > largestFace * 1.2) continue
      const point = (k: number): Point =>
        applyAffine(toImage, [regressors[r + 4 + 2 * k] + ax, regressors[r + 5 + 2 * k] + ay])
      const centre = applyAffine(toImage, [regressors[r] + ax, regressors[r + 1] + ay])
      const side = size * scale
      candidates.push({
        score,
        centre,
        size: side,
        angle: clockwiseDegrees(point(0), point(1)),
        box: {
          left: centre[0] - side / 2,
          top: centre[1] - side / 2,
          right: centre[0] + side / 2,
          bottom: centre[1] + side / 2,
        },
      })
    }
    return suppressOverlaps(candidates, 0.3)
  }
}

export interface DetectionWindow {
  centre: Point
  side: number
}

/**
 * Faces smaller than this share of the image's shorter side are not
 * searched for, whatever `minFaceSize` says: the work grows with the
 * square of the image's size over the smallest face, and on a 12-megapixel
 * photo 20-pixel faces would take some 300 detector runs.
 */
const smallestShare = 1 / 40

/**
 * A bound on the levels of any plan. Each level is `largestFace /
 * smallestFace` (about 14) times finer than the one before and the finest
 * is never below a 40th of the shorter side, so photos need two levels and
 * even a 1×10000 strip needs three; the bound only guards the loop.
 */
export const maxLevels = 6

/**
 * The windows to run BlazeFace on, level by level. Level 0 is the whole
 * frame with its border; each further level is as coarse as it can be
 * while still reaching the faces the previous one was too coarse for, and
 * the last one reaches the smallest face searched for.
 *
 * The loop compares window sides, not the face sizes they reach: the
 * finest level's side is `finest` itself, so the comparison that ends the
 * loop is exact. A face size recomputed from a side can come out a hair
 * above `minFaceSize` (28.800000000000004 against 28.8 on 1536×1152), and
 * a loop on it never ended.
 */
export function planLevels(width: number, height: number, requested: number) {
  const minFaceSize = Math.max(requested, Math.min(width, height) * smallestShare)
  const finest = (minFaceSize * inputSize) / smallestFace
  let side = Math.max(width, height) * (1 + 2 * frameMargin)
  const levels: DetectionWindow[][] = [[{ centre: [width / 2, height / 2], side }]]
  while (side > finest && levels.length < maxLevels) {
    const reach = (smallestFace * side) / inputSize
    side = Math.max(finest, (side * smallestFace) / largestFace)
    const overlap = Math.min(reach * 1.25, side / 2)
    levels.push(tile(width, height, side, overlap))
  }
  return levels
}

function tile(width: number, height: number, side: number, overlap: number): DetectionWindow[] {
  const stride = side - overlap
  const centres = (length: number) => {
    if (length <= side) return [length / 2]
    const count = Math.ceil((length - side) / stride) + 1
    const step = (length - side) / (count - 1)
    return Array.from({ length: count }, (_, index) => side / 2 + index * step)
  }
  const windows: DetectionWindow[] = []
  for (const y of centres(height)) {
    for (const x of centres(width)) windows.push({ centre: [x, y], side })
  }
  return windows
}

/**
 * Anchor centres in input pixels, in the order of the model's outputs:
 * stride by stride, row by row, column by column, then the anchors of a
 * cell.
 */
function blazeFaceAnchors(size: number, strides: number[], perCell: number[]) {
  const anchors: number[] = []
  strides.forEach((stride, index) => {
    const cells = Math.ceil(size / stride)
    for (let row = 0; row < cells; row++) {
      for (let column = 0; column < cells; column++) {
        for (let k = 0; k < perCell[index]; k++) {
          anchors.push((column + 0.5) * stride, (row + 0.5) * stride)
        }
      }
    }
  })
  return Float32Array.from(anchors)
}

function overlaps(first: FaceCandidate, second: FaceCandidate) {
  return (
    Math.hypot(first.centre[0] - second.centre[0], first.centre[1] - second.centre[1]) <
    Math.max(first.size, second.size) / 2
  )
}
