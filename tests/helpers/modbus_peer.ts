import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createPtyPair, type PtyPair } from '#plugin-sdk'

/** Debian's Python, which python3-pymodbus installs into, before any other on PATH. */
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const script = fileURLToPath(new URL('../peers/modbus_slave.py', import.meta.url))

export type ModbusPeerTable = 'co' | 'di' | 'hr' | 'ir'

/**
 * A write the slave saw; `at` is the slave's time.monotonic() in
 * milliseconds, the same clock as Node's process.hrtime() on Linux.
 */
export interface PeerWrite {
  table: ModbusPeerTable
  unit: number
  address: number
  values: number[]
  at: number
}

interface Options {
  units?: number[]
  /** Hold answers back for their time on an RS-485 pair at this speed (see the script). */
  wireBaud?: number
}

/**
 * A pymodbus slave (tests/peers/modbus_slave.py) serving `units` on a
 * socat pty pair (RTU) or a loopback TCP port: what the app's Modbus
 * drivers talk to in the tests and the door benchmark. It records every
 * write with its time, and can change inputs, fall silent, damage
 * answers, lose its port and get it back.
 */
export class ModbusPeer {
  readonly writes: PeerWrite[] = []
  #process: ChildProcess | null = null
  #waiters = new Set<() => void>()
  #acknowledged = 0

  private constructor(
    private link: { pty: PtyPair } | { port: number },
    private options: Options
  ) {}

  static async rtu(options: Options = {}) {
    const peer = new ModbusPeer({ pty: await createPtyPair() }, options)
    await peer.#start()
    return peer
  }

  static async tcp(options: Options = {}) {
    const peer = new ModbusPeer({ port: await freePort() }, options)
    await peer.#start()
    return peer
  }

  /** The `bus` of an instance's config that reaches this slave. */
  get bus() {
    return 'pty' in this.link
      ? { serial: this.link.pty.devicePath }
      : { host: '127.0.0.1', port: this.link.port }
  }

  set(table: ModbusPeerTable, unit: number, address: number, value: number) {
    return this.#command({ set: table, unit, address, value })
  }

  /** These units stop answering (an empty list: all answer again). */
  silence(units: number[]) {
    return this.#command({ silent: units })
  }

  /** The next `count` answers go out with a damaged CRC. */
  corrupt(count = 1) {
    return this.#command({ corrupt: count })
  }

  /** The serial adapter is pulled out: the port vanishes with the slave. */
  async unplug() {
    await this.#stopProcess()
    if ('pty' in this.link) await this.link.pty.unplug()
  }

  /** …and plugged back in: the same port path, a slave answering on it again. */
  async plug() {
    if ('pty' in this.link) await this.link.pty.plug()
    await this.#start()
  }

  writesTo(table: ModbusPeerTable, unit: number, address: number) {
    return this.writes.filter(
      (write) => write.table === table && write.unit === unit && write.address === address
    )
  }

  /**
   * Waits until `check` holds over the writes seen, up to `timeoutMs`. The
   * slave reports a write on its own pipe, which may be read after the
   * master has its answer.
   */
  async waitFor<T>(
    check: (writes: PeerWrite[]) => T | undefined | false,
    what = 'it',
    timeoutMs = 3000
  ) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = check(this.writes)
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`The Modbus slave did not see ${what} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left)
        const waiters = this.#waiters
        function done() {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        waiters.add(done)
      })
    }
  }

  async stop() {
    await this.#stopProcess()
    if ('pty' in this.link) await this.link.pty.close()
  }

  async #start() {
    const link =
      'pty' in this.link ? ['--rtu', this.link.pty.peerPath] : ['--tcp', String(this.link.port)]
    const args = [script, ...link, '--units', (this.options.units ?? [1]).join(',')]
    if (this.options.wireBaud) args.push('--wire-baud', String(this.options.wireBaud))
    const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#process = child
    let stderr = ''
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`The Modbus slave exited with ${code} before it was ready: ${stderr}`))
      )
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line)
        if (message.ready) resolve()
        if (message.done) this.#acknowledged++
        if (message.write) {
          const { write: table, unit, address, values, at } = message
          this.writes.push({ table, unit, address, values, at: at * 1000 })
        }
        for (const waiter of this.#waiters) waiter()
      })
    })
    await ready
  }

  async #command(command: Record<string, unknown>) {
    const target = this.#acknowledged + 1
    this.#process!.stdin!.write(`${JSON.stringify(command)}\n`)
    await this.waitFor(() => this.#acknowledged >= target, 'the command acknowledged')
  }

  async #stopProcess() {
    const child = this.#process
    this.#process = null
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
