import { estimateSimilarity, squareWindow, type Affine, type Point } from './geometry.js'
import type { FivePoints } from './landmarks.js'

/**
 * Where a face sits in the image once found: its five points, the centre
 * and size of its box, and its clockwise turn in degrees.
 */
export interface LocatedFace {
  points: FivePoints
  centre: Point
  size: number
  angle: number
}

/**
 * How a model wants its face cut out: warped so that the five points land
 * on a template (what recognition models are trained on), or a square
 * around the face box, turned upright (what human's classifiers get).
 */
export type FaceCrop =
  | { kind: 'template'; size: number; points: readonly Point[] }
  | { kind: 'box'; size: number; enlarge: number }

/**
 * The ArcFace template for 112×112 crops (insightface), in pixel-centre
 * coordinates: the template every ArcFace-family embedder is trained on.
 */
const arcFaceTemplate: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
]

/**
 * dlib's face chip (get_face_chip_details, padding 0.25) at 150×150, the
 * crop its ResNet face descriptor was trained on, as five points: eye
 * centres, nose tip and mouth corners of dlib's mean face shape.
 */
const dlibChipTemplate: readonly Point[] = [
  [47.55, 46.6],
  [100.48, 46.6],
  [74.01, 76.56],
  [50.41, 103.02],
  [97.61, 103.02],
]

function scaleTemplate(points: readonly Point[], factor: number): Point[] {
  return points.map(([x, y]) => [x * factor, y * factor])
}

/** The template's points spread by `factor` about the crop's centre: the face fills more of it. */
function zoomTemplate(points: readonly Point[], factor: number, size: number): Point[] {
  return points.map(([x, y]) => [
    size / 2 + (x - size / 2) * factor,
    size / 2 + (y - size / 2) * factor,
  ])
}

export const arcFaceCrop: FaceCrop = { kind: 'template', size: 112, points: arcFaceTemplate }

/** The crop each model of the manifest expects. */
export const modelCrops: Record<string, FaceCrop> = {
  'faceres': { kind: 'template', size: 224, points: scaleTemplate(arcFaceTemplate, 2) },
  'faceres-deep': { kind: 'template', size: 224, points: scaleTemplate(arcFaceTemplate, 2) },
  'mobileface': { kind: 'template', size: 112, points: arcFaceTemplate },
  'faceplugin-arcface': { kind: 'template', size: 112, points: arcFaceTemplate },
  /** human's 1.4× face box, of which GEAR sees the middle 80–90%. */
  'gear': { kind: 'box', size: 198, enlarge: 1.2 },
  'ssrnet-age': { kind: 'box', size: 64, enlarge: 1.8 },
  'ssrnet-gender': { kind: 'box', size: 64, enlarge: 1.8 },
  'faceapi-recognition': { kind: 'template', size: 150, points: dlibChipTemplate },
  /**
   * face-api's age and gender net was trained on its detector's boxes,
   * tighter than dlib's chip: on faces-dev the chip zoomed 1.1× gave an age
   * error of 4.5 years against 5.0 unzoomed and 3.8 at 1.2×, whose gender
   * accuracy fell from 94% to 91%.
   */
  'faceapi-age-gender': {
    kind: 'template',
    size: 112,
    points: zoomTemplate(scaleTemplate(dlibChipTemplate, 112 / 150), 1.1, 112),
  },
  'antispoof': { kind: 'box', size: 128, enlarge: 1.4 },
  'liveness': { kind: 'box', size: 32, enlarge: 1.4 },
}

/**
 * The transform from crop pixels to image pixels. Template points are
 * pixel indices (OpenCV's convention), hence the half-pixel shift to this
 * engine's pixel-area coordinates.
 */
export function cropTransform(face: LocatedFace, crop: FaceCrop): Affine {
  if (crop.kind === 'box') {
    return squareWindow(face.centre, face.size * crop.enlarge, face.angle, crop.size)
  }
  const template = crop.points.map(([x, y]): Point => [x + 0.5, y + 0.5])
  return estimateSimilarity(template, face.points)
}
