import type { AgentCommand, AgentHeartbeat } from '#terminal-client/agent_contracts'
import type { FacesApiClient } from '#terminal-client/faces_api_client'

export type HeartbeatClientOptions = {
  /** The signed client of the paired device. */
  api: FacesApiClient
  deviceName: string
  serialNumber: string
  /** The agent's state now; `commandsDone` may be empty: `done(id)` reports them as well. */
  state: () => AgentHeartbeat | Promise<AgentHeartbeat>
  /** Commands not seen before, from heartbeat answers and from `receive` (syncEvents answers). */
  onCommands: (commands: AgentCommand[]) => void | Promise<void>
  intervalMs?: number
  /** Longest pause between attempts while the server does not answer. */
  maxBackoffMs?: number
  /** Told of each failed heartbeat (the agent logs it); never thrown. */
  onError?: (error: unknown) => void
  /** Told of each heartbeat the server accepted: it is reachable. */
  onAnswered?: () => void
}

/** Command ids remembered as seen, so that one sent again (until reported done) runs once. */
const seenLimit = 1000

/**
 * Sends the agent's heartbeat every `intervalMs` and hands the commands
 * the server sends (with heartbeat and syncEvents answers) to the agent,
 * each id once. Commands carried out are reported in the next heartbeat
 * until one is accepted. Failures never reach the caller: while the
 * server is unreachable the pause doubles up to `maxBackoffMs`.
 */
export class HeartbeatClient {
  readonly #options: Required<Omit<HeartbeatClientOptions, 'onError' | 'onAnswered'>> &
    Pick<HeartbeatClientOptions, 'onError' | 'onAnswered'>
  #seen = new Set<number>()
  #done = new Set<number>()
  #timer: NodeJS.Timeout | null = null
  #running = false
  #inFlight: Promise<boolean> | null = null
  #failures = 0
  #lastSuccessAt: number | null = null

  constructor(options: HeartbeatClientOptions) {
    this.#options = { intervalMs: 15_000, maxBackoffMs: 5 * 60_000, ...options }
  }

  start() {
    if (this.#running) return
    this.#running = true
    this.#schedule(0)
  }

  async stop() {
    this.#running = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#inFlight
  }

  /** How the heartbeats go: consecutive failures, and when one was last accepted (unix ms). */
  health() {
    return { failures: this.#failures, lastSuccessAt: this.#lastSuccessAt }
  }

  /** The agent carried out this command: the next heartbeat says so. */
  done(id: number) {
    this.#done.add(id)
  }

  /** Commands from another answer (syncEvents): the new ones go to `onCommands`. */
  async receive(commands: AgentCommand[]) {
    const fresh = commands.filter((command) => !this.#seen.has(command.id))
    if (fresh.length === 0) return
    for (const command of fresh) this.#seen.add(command.id)
    while (this.#seen.size > seenLimit) this.#seen.delete(this.#seen.values().next().value!)
    try {
      await this.#options.onCommands(fresh)
    } catch (error) {
      this.#options.onError?.(error)
    }
  }

  /** One heartbeat now (e.g. before a restart); whether the server accepted it. */
  beat(): Promise<boolean> {
    this.#inFlight ??= this.#send().finally(() => (this.#inFlight = null))
    return this.#inFlight
  }

  async #send() {
    try {
      const state = await this.#options.state()
      const reported = [...new Set([...state.commandsDone, ...this.#done])]
      const answer = await this.#options.api.call(
        'heartbeat',
        {
          deviceName: this.#options.deviceName,
          deviceSN: this.#options.serialNumber,
          state: JSON.stringify({ ...state, commandsDone: reported }),
        },
        { encoding: 'json' }
      )
      if (answer.code !== 0) throw new Error(`heartbeat answered ${answer.code}: ${answer.message}`)
      for (const id of reported) this.#done.delete(id)
      this.#failures = 0
      this.#lastSuccessAt = Date.now()
      this.#options.onAnswered?.()
      const commands = Array.isArray(answer.commands) ? (answer.commands as AgentCommand[]) : []
      await this.receive(commands.filter((command) => !reported.includes(command.id)))
      return true
    } catch (error) {
      this.#failures++
      this.#options.onError?.(error)
      return false
    }
  }

  #schedule(delayMs: number) {
    if (!this.#running) return
    this.#timer = setTimeout(async () => {
      this.#timer = null
      await this.beat()
      const { intervalMs, maxBackoffMs } = this.#options
      const backoff = intervalMs * 2 ** Math.min(this.#failures, 16)
      this.#schedule(this.#failures === 0 ? intervalMs : Math.min(maxBackoffMs, backoff))
    }, delayMs)
    this.#timer.unref?.()
  }
}
