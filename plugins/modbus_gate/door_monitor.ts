import type { DoorEvent } from '#plugin-sdk'

export interface DoorMonitorSettings {
  /** How long the door may stand open after it opened before it is "held open". */
  heldOpenMs: number
  /** After the gate closes (or the exit button), how long the door may still open without being forced. */
  graceMs: number
}

/** One reading of the inputs; null for an input that is not wired. */
export interface DoorSample {
  doorOpen: boolean | null
  exitPressed: boolean | null
  at: number
}

/**
 * Turns readings of a door contact and an exit button into door events:
 * the door opening when no opening was granted (forced), standing open
 * too long (held open, once per opening) and the exit button being
 * pressed (once per press). Times are `Date.now()` milliseconds. It knows
 * nothing of Modbus, so that the rules are tested on their own.
 */
export class DoorMonitor {
  #openedAt: number | null = null
  #heldReported = false
  #pressed = false
  #releasedUntil = Number.NEGATIVE_INFINITY
  #first = true

  constructor(private settings: DoorMonitorSettings) {}

  /** The gate was opened (a grant, an operator, the exit button) until `until`. */
  released(until: number) {
    this.#releasedUntil = Math.max(this.#releasedUntil, until)
  }

  get doorOpen() {
    return this.#openedAt !== null
  }

  sample({ doorOpen, exitPressed, at }: DoorSample): DoorEvent[] {
    const events: DoorEvent[] = []
    const first = this.#first
    this.#first = false

    if (exitPressed !== null) {
      if (exitPressed && !this.#pressed && !first) {
        events.push({ type: 'exit_button', at: new Date(at) })
        this.released(at)
      }
      this.#pressed = exitPressed
    }

    if (doorOpen === null) return events
    if (doorOpen && this.#openedAt === null) {
      this.#openedAt = at
      this.#heldReported = false
      const granted = at <= this.#releasedUntil + this.settings.graceMs
      if (!granted && !first) {
        events.push({
          type: 'door_forced',
          at: new Date(at),
          message: 'The door opened with no opening granted',
        })
      }
    } else if (!doorOpen) {
      this.#openedAt = null
    }

    if (this.#openedAt !== null && !this.#heldReported) {
      const heldMs = at - Math.max(this.#openedAt, Math.min(this.#releasedUntil, at))
      if (heldMs > this.settings.heldOpenMs) {
        this.#heldReported = true
        const seconds = Math.round((at - this.#openedAt) / 1000)
        events.push({
          type: 'door_held_open',
          at: new Date(at),
          message: `The door has stood open for ${seconds} s`,
        })
      }
    }
    return events
  }
}
