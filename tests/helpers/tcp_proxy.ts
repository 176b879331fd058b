import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A loopback TCP proxy in front of the test server, so a terminal can lose
 * its server as on a real network: `cut()` closes the port and drops every
 * connection (calls in flight fail, new ones are refused), `restore()`
 * opens the same port again.
 */
export class TcpProxy {
  #server: Server | null = null
  #sockets = new Set<Socket>()
  #port = 0

  constructor(private target: { host: string; port: number }) {}

  get url() {
    return `http://127.0.0.1:${this.#port}`
  }

  async start() {
    await this.#listen(0)
    return this
  }

  async cut() {
    const server = this.#server
    this.#server = null
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    if (server) await new Promise<void>((done) => server.close(() => done()))
  }

  async restore() {
    if (!this.#server) await this.#listen(this.#port)
  }

  async stop() {
    await this.cut()
  }

  async #listen(port: number) {
    const server = createServer((inbound) => {
      const outbound = connect(this.target.port, this.target.host)
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {
          inbound.destroy()
          outbound.destroy()
        })
      }
      inbound.pipe(outbound).pipe(inbound)
    })
    await new Promise<void>((done, fail) => {
      server.once('error', fail)
      server.listen(port, '127.0.0.1', () => done())
    })
    this.#server = server
    this.#port = (server.address() as AddressInfo).port
  }
}
