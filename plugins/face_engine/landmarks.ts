import {
  applyAffine,
  boundingBox,
  clockwiseDegrees,
  distance,
  midpoint,
  squareWindow,
  type Box,
  type Point,
} from './geometry.js'
import type { FaceCandidate } from './detector.js'
import type { ImagePyramid } from './image_sampler.js'
import type { ModelSessions } from './model_sessions.js'

/**
 * Five points in the ArcFace order, named as they appear on an upright
 * face: the eye on the image's left, the eye on the image's right, the nose
 * tip, the mouth corner on the left, the mouth corner on the right.
 */
export type FivePoints = [Point, Point, Point, Point, Point]

export interface FaceLandmarks {
  points: FivePoints
  /** FaceMesh's own belief that the crop holds a face, 0..1. */
  presence: number
  /** Clockwise turn of the eye line, degrees in [0, 360). */
  angle: number
  /** Around the mesh: forehead to chin, cheek to cheek. */
  box: Box
  /** Cheek, forehead and chin points, for the pose estimate. */
  outline: { leftCheek: Point; rightCheek: Point; forehead: Point; chin: Point }
  /** Eye aspect ratio of the eye on the image's left and right: see `DetectedFace.eyes`. */
  eyes: { left: number; right: number }
  /** Head pose in degrees from the mesh's depth: see `DetectedFace.pose`. */
  pose: { yaw: number; pitch: number; roll: number }
}

/** FaceMesh indices (the canonical 468-point topology). */
const mesh = {
  leftEye: [33, 133],
  rightEye: [362, 263],
  noseTip: 1,
  leftMouth: 61,
  rightMouth: 291,
  leftCheek: 234,
  rightCheek: 454,
  forehead: 10,
  chin: 152,
  /** Corners, then upper and lower lid pairs (Soukupová and Čech's six eye points). */
  leftEyelids: {
    corners: [33, 133],
    lids: [
      [160, 144],
      [158, 153],
    ],
  },
  rightEyelids: {
    corners: [362, 263],
    lids: [
      [385, 380],
      [387, 373],
    ],
  },
  /** The eyes' outer corners, whose depth difference is the yaw. */
  eyeCorners: [33, 263],
}

const inputSize = 192
/** FaceMesh was trained on the detector box enlarged 1.4× (human's face.detector.scale). */
const cropScale = 1.4

export class LandmarkDetector {
  constructor(
    private sessions: ModelSessions,
    private model: string
  ) {}

  /**
   * Runs FaceMesh on a square crop around the candidate, turned upright by
   * the detector's estimate. A second pass on a crop re-centred by the
   * first mesh changed nothing measurable on faces-dev and cost 5 ms.
   */
  locate(pyramid: ImagePyramid, candidate: FaceCandidate): Promise<FaceLandmarks> {
    return this.#run(pyramid, candidate.centre, candidate.size * cropScale, candidate.angle)
  }

  async #run(pyramid: ImagePyramid, centre: Point, side: number, angle: number) {
    const entry = this.sessions.entry(this.model)
    const toImage = squareWindow(centre, side, angle, inputSize)
    const input = pyramid.sample(toImage, inputSize, inputSize, entry.preprocessing)
    const { mesh: coordinates, faceFlag } = await this.sessions.run(this.model, input)
    const at = (index: number) =>
      applyAffine(toImage, [coordinates[3 * index], coordinates[3 * index + 1]])
    const mean = (indices: number[]) => midpoint(at(indices[0]), at(indices[1]))

    const leftEye = mean(mesh.leftEye)
    const rightEye = mean(mesh.rightEye)
    const all: Point[] = []
    for (let index = 0; index < coordinates.length / 3; index++) all.push(at(index))
    const openness = ({ corners, lids }: typeof mesh.leftEyelids) =>
      lids.reduce((sum, [upper, lower]) => sum + distance(at(upper), at(lower)), 0) /
      (lids.length * Math.max(1e-6, distance(at(corners[0]), at(corners[1]))))
    const roll = clockwiseDegrees(leftEye, rightEye)
    return {
      points: [leftEye, rightEye, at(mesh.noseTip), at(mesh.leftMouth), at(mesh.rightMouth)],
      presence: faceFlag[0],
      angle: roll,
      box: boundingBox(all),
      outline: {
        leftCheek: at(mesh.leftCheek),
        rightCheek: at(mesh.rightCheek),
        forehead: at(mesh.forehead),
        chin: at(mesh.chin),
      },
      eyes: { left: openness(mesh.leftEyelids), right: openness(mesh.rightEyelids) },
      pose: headPose(coordinates, roll),
    } satisfies FaceLandmarks
  }
}

/**
 * Yaw and pitch from the depth FaceMesh gives each point, in the crop's
 * upright frame: the slope of the line between the eyes' outer corners
 * seen from above, and of the line from forehead to chin seen from the
 * side (human's `calculateFaceAngle`), in degrees where the quality
 * check's nose-between-cheeks ratio has no unit (on the fixtures yaw is
 * about -38 times that ratio). Roll is the eye line's own turn.
 */
function headPose(coordinates: Float32Array, angle: number) {
  const point = (index: number) => [
    coordinates[3 * index],
    coordinates[3 * index + 1],
    coordinates[3 * index + 2],
  ]
  const [outerLeft, outerRight] = mesh.eyeCorners.map(point)
  const [forehead, chin] = [point(mesh.forehead), point(mesh.chin)]
  const degrees = (radians: number) => Math.round(((radians * 180) / Math.PI) * 10) / 10
  return {
    yaw: degrees(Math.atan2(outerRight[2] - outerLeft[2], outerRight[0] - outerLeft[0])),
    pitch: degrees(Math.atan2(chin[2] - forehead[2], chin[1] - forehead[1])),
    roll: Math.round((angle > 180 ? angle - 360 : angle) * 10) / 10,
  }
}
