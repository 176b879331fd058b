/** Pixels admitted for one picture; `release` gives them back (more than once is harmless). */
export type PixelLease = { readonly pixels: number; release(): void }

type Waiter = { pixels: number; admit: (lease: PixelLease | null) => void }

/**
 * How many decoded pixels may be held at once by everything the server
 * decodes. A picture is admitted while its pixels fit beside those already
 * held; otherwise it waits its turn (first come, first served, so a large
 * picture is not passed over forever by small ones) for at most `waitMs`,
 * and is refused after that, or at once when it could never fit. Memory
 * then stays bounded by the budget however many terminals send large
 * pictures at the same moment.
 */
export class PixelBudget {
  #held = 0
  #queue: Waiter[] = []

  constructor(readonly capacity: number) {}

  /** Pixels held by admitted pictures. */
  get held() {
    return this.#held
  }

  /** Pictures waiting for pixels to be released. */
  get waiting() {
    return this.#queue.length
  }

  /** A lease for `pixels`, or null when they did not fit within `waitMs`. */
  acquire(pixels: number, waitMs: number): Promise<PixelLease | null> {
    if (pixels > this.capacity) return Promise.resolve(null)
    if (this.#queue.length === 0 && this.#fits(pixels)) return Promise.resolve(this.#lease(pixels))
    if (waitMs <= 0) return Promise.resolve(null)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        pixels,
        admit: (lease) => {
          clearTimeout(timer)
          resolve(lease)
        },
      }
      const timer = setTimeout(() => {
        this.#queue.splice(this.#queue.indexOf(waiter), 1)
        waiter.admit(null)
        // The head of the queue may have been all that held smaller pictures back.
        this.#admitWaiting()
      }, waitMs)
      this.#queue.push(waiter)
    })
  }

  #fits(pixels: number) {
    return this.#held + pixels <= this.capacity
  }

  #lease(pixels: number): PixelLease {
    this.#held += pixels
    let released = false
    return {
      pixels,
      release: () => {
        if (released) return
        released = true
        this.#held -= pixels
        this.#admitWaiting()
      },
    }
  }

  #admitWaiting() {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0].pixels)) {
      const waiter = this.#queue.shift()!
      waiter.admit(this.#lease(waiter.pixels))
    }
  }
}
