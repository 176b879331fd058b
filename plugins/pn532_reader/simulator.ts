import { createPtyPair, type PtyPair, type ReaderSimulator } from '#plugin-sdk'
import { Pn532Peer } from './pn532_peer.js'

/**
 * A PN532 on the far end of a socat pty pair, speaking real HSU frames
 * (see pn532_peer.ts); the reader under test opens the other end as its
 * UART.
 */
export default class Pn532ReaderSimulator implements ReaderSimulator {
  readonly invalidConfigs = [
    {},
    { port: '' },
    { port: '/dev/ttyS1', baudRate: 12_345 },
    { port: '/dev/ttyS1', pollMs: 5 },
    { port: '/dev/ttyS1', timeoutMs: 0 },
  ]

  #pty: PtyPair | null = null
  #peer: Pn532Peer | null = null

  get peer() {
    if (!this.#peer) throw new Error('The PN532 simulator is not started')
    return this.#peer
  }

  get pty() {
    if (!this.#pty) throw new Error('The PN532 simulator is not started')
    return this.#pty
  }

  async start() {
    this.#pty = await createPtyPair()
    this.#peer = new Pn532Peer(this.#pty.peerPath)
    await this.#peer.open()
    return { label: 'Simulated PN532', port: this.#pty.devicePath, pollMs: 50 }
  }

  async stop() {
    await this.#peer?.close()
    await this.#pty?.close()
    this.#peer = null
    this.#pty = null
  }

  async presentCard(uid: string) {
    this.peer.present(uid)
  }
}
