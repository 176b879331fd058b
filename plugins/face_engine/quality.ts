import type { FaceQuality, QualityIssue } from '#plugin-sdk'
import { applyAffine, distance, invertAffine, midpoint, type Affine, type Box } from './geometry.js'
import type { RgbImage } from './image_sampler.js'
import type { FaceLandmarks } from './landmarks.js'

/**
 * Where each measure starts to be a problem, set by looking at faces-dev:
 * eyes at least 30 pixels apart (ArcFace's own 112-pixel crop has 35; the
 * 22- and 40-pixel faces of the small-face cases have 8 and 15); the nose
 * no further off the cheeks' midline than 0.45 of their span (a head
 * turned about 35°; LFW's three-quarter views reach 0.65); the nose tip
 * between 35% and 90% of the way from the eye line to the mouth, where
 * every frontal face of the set lies; a Laplacian spread of 8 on the
 * aligned crop (the small faces score 4 to 6, sharp photos 15 to 55); a
 * mean brightness between 50 and 210 (the darkened low-light cases are
 * about 25).
 */
const limits = {
  minInterocular: 30,
  maxYaw: 0.45,
  pitchRange: [0.35, 0.9] as const,
  maxRoll: 30,
  minSharpness: 8,
  minBrightness: 50,
  maxBrightness: 210,
  maxClipped: 0.2,
}

const messages: Record<QualityIssue['code'], string> = {
  too_small: 'Move closer',
  cut_off: 'Keep your whole face in the picture',
  turned: 'Face the camera',
  tilted_up_down: 'Look straight at the camera',
  rolled: 'Hold your head upright',
  blurred: 'Hold still',
  dark: 'Find more light',
  bright: 'Step out of direct light',
}

/**
 * Judges a found face for enrolment or recognition from its landmarks and
 * its aligned 112×112 crop, and says what the person in front of the
 * camera can do about each shortcoming.
 */
export function assessQuality(
  image: { width: number; height: number },
  landmarks: FaceLandmarks,
  aligned: RgbImage,
  toImage: Affine
): FaceQuality {
  const [leftEye, rightEye, nose, leftMouth, rightMouth] = landmarks.points
  const interocular = distance(leftEye, rightEye)

  const toFace = invertAffine(toImage)
  const upright = (point: [number, number]) => applyAffine(toFace, point)
  const [noseX, noseY] = upright(nose)
  const eyeY = upright(midpoint(leftEye, rightEye))[1]
  const mouthY = upright(midpoint(leftMouth, rightMouth))[1]
  const leftSpan = Math.abs(noseX - upright(landmarks.outline.leftCheek)[0])
  const rightSpan = Math.abs(upright(landmarks.outline.rightCheek)[0] - noseX)
  const yaw = (rightSpan - leftSpan) / Math.max(1e-6, leftSpan + rightSpan)
  const pitch = (noseY - eyeY) / Math.max(1e-6, mouthY - eyeY)
  const roll = landmarks.pose.roll

  const { brightness, clipped, sharpness } = measurePixels(aligned)
  const cutOff = outside(landmarks.box, image)

  const issues: QualityIssue['code'][] = []
  if (interocular < limits.minInterocular) issues.push('too_small')
  if (cutOff > 0.1) issues.push('cut_off')
  if (Math.abs(yaw) > limits.maxYaw) issues.push('turned')
  if (pitch < limits.pitchRange[0] || pitch > limits.pitchRange[1]) issues.push('tilted_up_down')
  if (Math.abs(roll) > limits.maxRoll) issues.push('rolled')
  if (sharpness < limits.minSharpness) issues.push('blurred')
  if (brightness < limits.minBrightness) issues.push('dark')
  if (brightness > limits.maxBrightness || clipped > limits.maxClipped) issues.push('bright')

  const scores = [
    ramp(interocular, limits.minInterocular * 0.5, limits.minInterocular * 1.5),
    1 - ramp(Math.abs(yaw), limits.maxYaw * 0.5, limits.maxYaw * 1.5),
    ramp(sharpness, limits.minSharpness * 0.5, limits.minSharpness * 2),
    ramp(brightness, limits.minBrightness * 0.5, limits.minBrightness * 1.5),
    1 - ramp(clipped, limits.maxClipped * 0.5, limits.maxClipped * 1.5),
    1 - ramp(cutOff, 0, 0.3),
  ]
  return {
    score: Math.min(...scores),
    acceptable: issues.length === 0,
    issues: issues.map((code) => ({ code, message: messages[code] })),
    measures: { interocular, yaw, pitch, roll, sharpness, brightness, clipped, cutOff },
  }
}

/**
 * Brightness and clipping over the inner face (the crop's middle, clear of
 * hair and background), and sharpness as the variance of the Laplacian of
 * the grey image there.
 */
function measurePixels(aligned: RgbImage) {
  const { width, height, data } = aligned
  const grey = new Float32Array(width * height)
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * data[3 * i] + 0.587 * data[3 * i + 1] + 0.114 * data[3 * i + 2]
  }
  const x0 = Math.round(width * 0.25)
  const x1 = Math.round(width * 0.75)
  const y0 = Math.round(height * 0.3)
  const y1 = Math.round(height * 0.85)
  let sum = 0
  let clippedCount = 0
  let count = 0
  let laplaceSum = 0
  let laplaceSquares = 0
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x
      const value = grey[i]
      sum += value
      if (value >= 250 || value <= 5) clippedCount++
      const laplace = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * value
      laplaceSum += laplace
      laplaceSquares += laplace * laplace
      count++
    }
  }
  const mean = laplaceSum / count
  return {
    brightness: sum / count,
    clipped: clippedCount / count,
    sharpness: Math.sqrt(Math.max(0, laplaceSquares / count - mean * mean)),
  }
}

/** The share of the box that lies outside the image. */
function outside(box: Box, image: { width: number; height: number }) {
  const area = (box.right - box.left) * (box.bottom - box.top)
  if (area <= 0) return 0
  const inside =
    Math.max(0, Math.min(box.right, image.width) - Math.max(box.left, 0)) *
    Math.max(0, Math.min(box.bottom, image.height) - Math.max(box.top, 0))
  return 1 - inside / area
}

function ramp(value: number, low: number, high: number) {
  return Math.min(1, Math.max(0, (value - low) / (high - low)))
}
