import type { FaceAnalysis, FaceBox } from '#plugin-sdk'
import type { Guidance } from '#terminal-client/agent_contracts'

/** What a door asks of a face before it counts as live. */
export type LivenessRequirement = 'none' | 'blink' | 'turn' | 'blink_or_turn'

export type PassageTrackerOptions = {
  liveness?: LivenessRequirement
  /** Narrowest face box, in frame pixels, that is decided on (narrower: "come closer"). */
  minFaceWidth?: number
  /** A face box taller than this share of the frame is too close ("step back"). */
  maxFaceShare?: number
  /** Largest head turn, either way, in degrees, of a frame decided on. */
  maxYaw?: number
  /** Largest nod (up or down), in degrees, of a frame decided on. */
  maxPitch?: number
  /** A frame's quality score (0..1) must reach this besides being acceptable. */
  minQuality?: number
  /** Consecutive good frames of the same face before deciding. */
  confirmFrames?: number
  /** How long a good face may wait for a blink or turn before it is decided as not proven. */
  livenessTimeoutMs?: number
  /** A face absent this long has left: its passage ends and the next face is a new one. */
  leaveMs?: number
  /** Eye openness at most this share of the face's usual openness is a closed eye. */
  blinkClosedRatio?: number
  /** ... and back to at least this share is an open eye again. */
  blinkOpenRatio?: number
  /** Longest closed stretch that still counts as a blink, not eyes shut. */
  blinkMaxMs?: number
  /** Yaw, in degrees, the head must sweep within the passage to count as a turn. */
  turnDegrees?: number
  /**
   * Mean passive scores (the engine's `antispoof` / `liveness`, 0..1) over
   * the passage's good frames below which a blink or turn does not prove
   * liveness (a replayed video). Off unless set: the scores are not a
   * certified presentation-attack detector.
   */
  passiveFloor?: { antispoof?: number; liveness?: number }
  /** A second face at least this share of the followed face's width is "one at a time". */
  crowdRatio?: number
}

export type PassageLiveness = {
  required: boolean
  proven: boolean
  method: 'blink' | 'turn' | 'none'
  /** Mean passive scores over the passage's good frames, when the engine gave them. */
  scores?: { antispoof: number; liveness: number }
}

/** Once per passage: decide with this frame. */
export type PassageReady<Handle> = {
  analysis: FaceAnalysis
  /** What the caller passed with the frame (its image, its index). */
  handle: Handle
  /** When that frame was seen. */
  at: number
  liveness: PassageLiveness
  /** Frames of this face observed before the decision. */
  frames: number
}

export type PassageState = 'idle' | 'tracking' | 'awaiting_liveness' | 'decided'

export type PassageUpdate<Handle> = {
  state: PassageState
  /** What the display asks of the person; absent when there is nothing to ask. */
  guidance?: Guidance
  /** The face being followed, in frame pixels. */
  face?: FaceBox
  ready?: PassageReady<Handle>
}

export type PassageObservation<Handle> = {
  /** Unix milliseconds (or any monotone clock) of the frame. */
  at: number
  frame: { width: number; height: number }
  /**
   * Every face the engine found in the frame; the largest is followed and
   * needs `quality` (and `liveness` for passive scores) to be decided on,
   * the others only their boxes.
   */
  faces: FaceAnalysis[]
  handle: Handle
}

type Sample = { at: number; openness: number | null; yaw: number | null }

type Track<Handle> = {
  box: FaceBox
  lastSeen: number
  frames: number
  samples: Sample[]
  goodStreak: number
  firstGoodAt: number | null
  best: { analysis: FaceAnalysis; handle: Handle; at: number; score: number } | null
  passive: { antispoof: number; liveness: number; count: number }
  blinkSeen: boolean
  turnSeen: boolean
}

const defaults = {
  liveness: 'none' as LivenessRequirement,
  minFaceWidth: 64,
  maxFaceShare: 0.9,
  maxYaw: 20,
  maxPitch: 30,
  minQuality: 0,
  confirmFrames: 2,
  livenessTimeoutMs: 4000,
  leaveMs: 1500,
  blinkClosedRatio: 0.7,
  blinkOpenRatio: 0.85,
  blinkMaxMs: 800,
  turnDegrees: 10,
  crowdRatio: 0.8,
}

/** How far back the face's usual eye openness is taken from. */
const referenceMs = 2000
/** With no history, eyes at least this open count as open (FaceMesh reads 0.19–0.44 on open eyes). */
const openEyes = 0.15

/**
 * Follows the face in front of the door over the frames the engine
 * analyses and says when, and with which frame, to decide: once per
 * passage, after enough consecutive good frames of the same face and,
 * where the door asks for it, once the face has blinked or turned. A
 * photo held still never blinks or turns, so when liveness is required
 * it is decided as not proven after a while instead of never, and the
 * runtime denies it once (as a spoof) rather than leaving the person
 * without an answer. After the decision nothing more is asked until the
 * face has left for `leaveMs` or another face takes its place.
 */
export class PassageTracker<Handle = unknown> {
  readonly options: Required<Omit<PassageTrackerOptions, 'passiveFloor'>> &
    Pick<PassageTrackerOptions, 'passiveFloor'>
  #track: Track<Handle> | null = null
  /** Faces already decided on and still in view (or gone less than `leaveMs`). */
  #decided: { box: FaceBox; lastSeen: number }[] = []

  constructor(options: PassageTrackerOptions = {}) {
    const given = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined)
    )
    this.options = { ...defaults, ...given }
    if (this.options.confirmFrames < 1) throw new RangeError('confirmFrames must be at least 1')
  }

  observe(observation: PassageObservation<Handle>): PassageUpdate<Handle> {
    const { at, frame } = observation
    const { leaveMs } = this.options
    this.#decided = this.#decided.filter((entry) => at - entry.lastSeen <= leaveMs)
    if (this.#track && at - this.#track.lastSeen > leaveMs) this.#track = null

    const faces = [...observation.faces].sort((a, b) => area(b.face.box) - area(a.face.box))
    const followed = faces[0]
    if (!followed) return { state: this.#track ? 'tracking' : 'idle' }
    const box = followed.face.box

    // A decided face stays decided while in view, even behind someone else.
    for (const entry of this.#decided) {
      const seen = faces.find((candidate) => sameFace(entry.box, candidate.face.box))
      if (!seen) continue
      entry.box = seen.face.box
      entry.lastSeen = at
    }
    if (this.#decided.some((entry) => entry.lastSeen === at && sameFace(entry.box, box))) {
      if (this.#track && !sameFace(this.#track.box, box)) this.#track = null
      return { state: 'decided', face: box }
    }

    if (!this.#track || !sameFace(this.#track.box, box)) this.#track = newTrack(box, at)
    const track = this.#track
    track.box = box
    track.lastSeen = at
    track.frames++
    this.#remember(track, followed, at)

    const crowded =
      faces.length > 1 && width(faces[1].face.box) >= this.options.crowdRatio * width(box)
    const shortcoming = crowded ? 'one_at_a_time' : this.#shortcoming(track, followed, frame)
    if (shortcoming) {
      track.goodStreak = 0
      return { state: 'tracking', guidance: shortcoming, face: box }
    }

    track.goodStreak++
    track.firstGoodAt ??= at
    const score = followed.quality?.score ?? 0
    if (!track.best || score >= track.best.score) {
      track.best = { analysis: followed, handle: observation.handle, at, score }
    }
    if (followed.liveness) {
      track.passive.antispoof += followed.liveness.antispoof
      track.passive.liveness += followed.liveness.liveness
      track.passive.count++
    }
    if (track.goodStreak < this.options.confirmFrames) return { state: 'tracking', face: box }

    const liveness = this.#liveness(track)
    const timedOut = at - track.firstGoodAt >= this.options.livenessTimeoutMs
    if (liveness.required && !liveness.proven && !timedOut) {
      return {
        state: 'awaiting_liveness',
        guidance: this.#livenessGuidance(at - track.firstGoodAt),
        face: box,
      }
    }

    const best = track.best!
    this.#decided.push({ box, lastSeen: at })
    this.#track = null
    return {
      state: 'decided',
      face: box,
      ready: {
        analysis: best.analysis,
        handle: best.handle,
        at: best.at,
        liveness,
        frames: track.frames,
      },
    }
  }

  /**
   * The caller could not decide with the frame it was given (the engine
   * found no face in it again): the face in view is followed afresh and
   * decided on once more.
   */
  retry() {
    this.#decided = []
  }

  /** Forgets every face: the next frame starts a new passage whatever it shows. */
  reset() {
    this.#track = null
    this.#decided = []
  }

  /** Why the frame cannot be decided on, as the guidance that fixes it; null for a good frame. */
  #shortcoming(
    track: Track<Handle>,
    analysis: FaceAnalysis,
    frame: { width: number; height: number }
  ): Guidance | null {
    const { face, quality } = analysis
    const { options } = this
    if (width(face.box) < options.minFaceWidth) return 'come_closer'
    if (face.box.bottom - face.box.top > options.maxFaceShare * frame.height) return 'step_back'
    if (face.pose) {
      if (Math.abs(face.pose.yaw) > options.maxYaw) return 'look_at_camera'
      if (Math.abs(face.pose.pitch) > options.maxPitch) return 'look_at_camera'
    }
    if (!quality) return 'hold_still'
    const codes = new Set(quality.issues.map((issue) => issue.code))
    if (codes.has('too_small')) return 'come_closer'
    if (codes.has('dark')) return 'too_dark'
    if (codes.has('blurred')) return 'hold_still'
    if (codes.size > 0) return 'look_at_camera'
    if (quality.score < options.minQuality) return 'hold_still'
    if (face.eyes && !eyesOpen(track, meanOpenness(face.eyes)!, options.blinkClosedRatio)) {
      return 'look_at_camera'
    }
    return null
  }

  /** Adds the frame's eye and head signals and looks for a blink or a turn in them. */
  #remember(track: Track<Handle>, analysis: FaceAnalysis, at: number) {
    const sample: Sample = {
      at,
      openness: meanOpenness(analysis.face.eyes),
      yaw: analysis.face.pose?.yaw ?? null,
    }
    track.samples.push(sample)
    const keep = Math.max(referenceMs, this.options.blinkMaxMs) * 2
    while (track.samples.length > 2 && at - track.samples[0].at > keep) track.samples.shift()
    if (!track.blinkSeen) track.blinkSeen = this.#blinked(track.samples)
    if (!track.turnSeen) track.turnSeen = this.#turned(track)
  }

  /**
   * A blink: the eyes fall to `blinkClosedRatio` of their usual openness
   * (the median of the frames before, up to two seconds back) and open
   * again to `blinkOpenRatio` of it within `blinkMaxMs`. Relative, because
   * open eyes read anywhere from 0.19 (a smile) to 0.44 on FaceMesh.
   */
  #blinked(samples: Sample[]) {
    const { blinkClosedRatio, blinkOpenRatio, blinkMaxMs } = this.options
    const last = samples.at(-1)!
    if (last.openness === null) return false
    for (let index = samples.length - 2; index >= 0; index--) {
      const closed = samples[index]
      if (last.at - closed.at > blinkMaxMs) return false
      if (closed.openness === null) continue
      const before = samples
        .slice(0, index)
        .filter((sample) => sample.openness !== null && closed.at - sample.at <= referenceMs)
        .map((sample) => sample.openness!)
      if (before.length < 2) continue
      const usual = median(before)
      if (closed.openness <= blinkClosedRatio * usual && last.openness >= blinkOpenRatio * usual) {
        return true
      }
    }
    return false
  }

  /**
   * A turn: the yaw, as the median of three frames (one frame's
   * misreading is not a turn), has swept `turnDegrees` within the passage,
   * one way or there and back.
   */
  #turned(track: Track<Handle>) {
    const yaws = track.samples.filter((sample) => sample.yaw !== null).map((sample) => sample.yaw!)
    if (yaws.length < 3) return false
    const smoothed = yaws.slice(2).map((_, index) => median(yaws.slice(index, index + 3)))
    return Math.max(...smoothed) - Math.min(...smoothed) >= this.options.turnDegrees
  }

  /**
   * Either will do: a blink first, the natural thing, then a turn, which
   * unlike a blink no frame rate can miss.
   */
  #livenessGuidance(waitedMs: number): Guidance {
    const { liveness, livenessTimeoutMs } = this.options
    if (liveness === 'blink') return 'blink'
    if (liveness === 'turn') return 'turn_head'
    return waitedMs < livenessTimeoutMs / 2 ? 'blink' : 'turn_head'
  }

  #liveness(track: Track<Handle>): PassageLiveness {
    const requirement = this.options.liveness
    const blink = track.blinkSeen && requirement !== 'turn'
    const turn = track.turnSeen && requirement !== 'blink'
    const method = blink ? 'blink' : turn ? 'turn' : 'none'
    const { count } = track.passive
    const scores =
      count > 0
        ? { antispoof: track.passive.antispoof / count, liveness: track.passive.liveness / count }
        : undefined
    const floor = this.options.passiveFloor
    const passiveFails =
      floor !== undefined &&
      (scores === undefined ||
        scores.antispoof < (floor.antispoof ?? 0) ||
        scores.liveness < (floor.liveness ?? 0))
    return {
      required: requirement !== 'none',
      proven: method !== 'none' && !passiveFails,
      method,
      ...(scores ? { scores } : {}),
    }
  }
}

function newTrack<Handle>(box: FaceBox, at: number): Track<Handle> {
  return {
    box,
    lastSeen: at,
    frames: 0,
    samples: [],
    goodStreak: 0,
    firstGoodAt: null,
    best: null,
    passive: { antispoof: 0, liveness: 0, count: 0 },
    blinkSeen: false,
    turnSeen: false,
  }
}

/**
 * Not shut: above the closed level of a blink against the face's own
 * recent openness, or with no history yet above what any open eye read.
 */
function eyesOpen<Handle>(track: Track<Handle>, openness: number, closedRatio: number) {
  const recent = track.samples
    .slice(0, -1)
    .filter((sample) => sample.openness !== null)
    .map((sample) => sample.openness!)
  if (recent.length < 2) return openness >= openEyes
  return openness > closedRatio * median(recent)
}

function meanOpenness(eyes: { left: number; right: number } | undefined) {
  return eyes ? (eyes.left + eyes.right) / 2 : null
}

/**
 * The same face as in the previous frame: the boxes overlap by a third,
 * or the centre moved less than half the face's width (a face walking
 * up grows fast, which overlap alone would read as a new one).
 */
export function sameFace(previous: FaceBox, next: FaceBox) {
  const overlap =
    Math.max(0, Math.min(previous.right, next.right) - Math.max(previous.left, next.left)) *
    Math.max(0, Math.min(previous.bottom, next.bottom) - Math.max(previous.top, next.top))
  const union = area(previous) + area(next) - overlap
  if (union > 0 && overlap / union >= 1 / 3) return true
  const moved = Math.hypot(
    (previous.left + previous.right - next.left - next.right) / 2,
    (previous.top + previous.bottom - next.top - next.bottom) / 2
  )
  return moved < 0.5 * Math.max(width(previous), width(next))
}

function width(box: FaceBox) {
  return box.right - box.left
}

function area(box: FaceBox) {
  return Math.max(0, box.right - box.left) * Math.max(0, box.bottom - box.top)
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
