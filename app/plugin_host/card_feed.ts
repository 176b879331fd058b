import type { CardRead } from '#plugin-host/contracts'

/**
 * The cards a reader driver sees, handed to everyone iterating its
 * `reads()`: each consumer gets every card from the moment it starts
 * iterating until its signal aborts or the feed ends (the driver stops).
 * A consumer that falls behind keeps its own queue; nobody waits for it.
 */
export class CardFeed {
  #consumers = new Set<{ queue: CardRead[]; wake: () => void; ended: boolean }>()

  /** Hands a card to every consumer. */
  push(read: CardRead) {
    for (const consumer of this.#consumers) {
      consumer.queue.push(read)
      consumer.wake()
    }
  }

  /** Ends every iteration in progress, as a reader stopping does. */
  end() {
    for (const consumer of this.#consumers) {
      consumer.ended = true
      consumer.wake()
    }
    this.#consumers.clear()
  }

  reads(signal?: AbortSignal): AsyncIterable<CardRead> {
    const consumers = this.#consumers
    return {
      [Symbol.asyncIterator]() {
        const consumer = { queue: [] as CardRead[], wake: () => {}, ended: false }
        const finish = () => {
          consumer.ended = true
          consumers.delete(consumer)
          consumer.wake()
        }
        if (signal?.aborted) consumer.ended = true
        else {
          consumers.add(consumer)
          signal?.addEventListener('abort', finish, { once: true })
        }
        return {
          async next(): Promise<IteratorResult<CardRead>> {
            while (consumer.queue.length === 0 && !consumer.ended) {
              await new Promise<void>((resolve) => (consumer.wake = resolve))
            }
            const read = consumer.queue.shift()
            return read ? { value: read, done: false } : { value: undefined, done: true }
          },
          async return(): Promise<IteratorResult<CardRead>> {
            signal?.removeEventListener('abort', finish)
            finish()
            return { value: undefined, done: true }
          },
        }
      },
    }
  }
}

/**
 * A card number as the people pages store it: hexadecimal, uppercase,
 * without separators ("04:a1:b2:c3" → "04A1B2C3").
 */
export function normalizeCardUid(uid: string) {
  return uid.replace(/[\s:-]/g, '').toUpperCase()
}
