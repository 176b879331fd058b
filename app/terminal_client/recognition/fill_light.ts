import type { FrameMeasure } from '#terminal-client/camera/frame_gate'

export type FillLightOptions = {
  /** Mean luminance (0–255) under which the scene is dark enough to want the light (the FrameGate's `darkBelow`). */
  darkBelow?: number
  /**
   * With the light on the camera sees the light's own brightness, so the
   * scene only counts as bright again well above `darkBelow`: the light
   * goes off at this luminance (daylight back), not just above the line.
   */
  brightAbove?: number
  /** The light stays on this long after the last motion or face. */
  holdMs?: number
  /** ... and at least this long once on, so a flicker of motion does not blink it. */
  minOnMs?: number
  /**
   * The picture jumps when the light switches: for this long after, the
   * difference between frames is the light, not someone moving.
   */
  settleMs?: number
}

/**
 * When the door's fill light should be on: the scene is dark and someone
 * is there (motion, or a face the engine found). Once on it stays on
 * while anyone is there and `holdMs` after, and goes off early only when
 * the scene is bright even without it; the two thresholds are the
 * hysteresis that keeps the light's own glow from switching it off.
 * Called with every frame's FrameGate measure; the runtime drives the
 * light plugin with the answer when it changes.
 */
export class FillLight {
  readonly darkBelow: number
  readonly brightAbove: number
  readonly holdMs: number
  readonly minOnMs: number
  readonly settleMs: number
  #on = false
  #switchedAt = -Infinity
  #lastPresence = -Infinity

  constructor(options: FillLightOptions = {}) {
    this.darkBelow = options.darkBelow ?? 50
    this.brightAbove = options.brightAbove ?? 2.4 * this.darkBelow
    this.holdMs = options.holdMs ?? 10_000
    this.minOnMs = options.minOnMs ?? 3000
    this.settleMs = options.settleMs ?? 1000
    if (this.brightAbove <= this.darkBelow) {
      throw new RangeError('brightAbove must be above darkBelow')
    }
  }

  get on() {
    return this.#on
  }

  /**
   * `measure.motion` past the FrameGate's threshold is someone moving;
   * `faceSeen` says the engine found a face in this frame.
   */
  update(
    measure: Pick<FrameMeasure, 'brightness' | 'motion'>,
    at: number,
    faceSeen: boolean,
    motionThreshold = 4
  ) {
    const settling = at - this.#switchedAt < this.settleMs
    const moving = !settling && measure.motion !== null && measure.motion >= motionThreshold
    if (moving || faceSeen) this.#lastPresence = at
    const present = at - this.#lastPresence <= this.holdMs
    const wanted = this.#on
      ? at - this.#switchedAt < this.minOnMs || (present && measure.brightness <= this.brightAbove)
      : measure.brightness < this.darkBelow && (moving || faceSeen)
    if (wanted !== this.#on) {
      this.#on = wanted
      this.#switchedAt = at
    }
    return this.#on
  }
}
