import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'

export type KioskBrowserOptions = {
  /** The kiosk server's page. */
  url: string
  /**
   * `auto` (the default) starts the browser only where there is a screen
   * (DISPLAY or WAYLAND_DISPLAY set); `false` never does (headless machines,
   * tests); `true` always does.
   */
  display?: boolean | 'auto'
  /** Debian's Chromium unless told otherwise. */
  executable?: string
  /** Chromium's profile: kept apart from any user's, so no restore-session bubble or sign-in. */
  profileDir: string
  /** Added after the kiosk flags (e.g. `--headless` in tests, `--force-device-scale-factor=1.5`). */
  extraArgs?: string[]
  /** A browser that exits is started again after this long, doubling up to `maxBackoffMs`. */
  backoffMs?: number
  maxBackoffMs?: number
  /** A browser that stays up this long counts as healthy again: the next restart waits `backoffMs`. */
  healthyAfterMs?: number
  /** How long `stop()` waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void
}

export type KioskBrowserHealth = {
  state: 'disabled' | 'stopped' | 'running' | 'restarting'
  pid: number | null
  restarts: number
  lastExit: string | null
}

/** Browsers of this process, killed with it even when it dies without stopping them. */
const running = new Set<ChildProcess>()
let exitHookInstalled = false
function track(child: ChildProcess) {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const browser of running) killGroup(browser, 'SIGKILL')
    })
  }
  running.add(child)
  child.once('close', () => running.delete(child))
}

/** Chromium's renderer and GPU processes are its children: the whole group goes with it. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

export function kioskBrowserArgs(options: KioskBrowserOptions) {
  return [
    '--kiosk',
    `--app=${options.url}`,
    `--user-data-dir=${options.profileDir}`,
    '--noerrdialogs',
    '--disable-translate',
    '--disable-features=Translate,TranslateUI',
    '--disable-infobars',
    '--disable-session-crashed-bubble',
    '--disable-pinch',
    '--overscroll-history-navigation=0',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--password-store=basic',
    '--autoplay-policy=no-user-gesture-required',
    // Chromium refuses to start as root without it; an agent run by systemd may be root.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ...(options.extraArgs ?? []),
  ]
}

/**
 * Chromium in kiosk mode on the terminal's screen, showing the kiosk
 * page: started with the agent, started again (with capped backoff) if it
 * exits or crashes, and stopped with the agent, its whole process group
 * with it.
 */
export class KioskBrowser {
  readonly #options: KioskBrowserOptions
  readonly enabled: boolean
  #child: ChildProcess | null = null
  #timer: NodeJS.Timeout | null = null
  #stopping = false
  #started = false
  #restarts = 0
  #delayMs: number
  #lastExit: string | null = null

  constructor(options: KioskBrowserOptions) {
    this.#options = options
    const display = options.display ?? 'auto'
    this.enabled =
      display === 'auto' ? Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) : display
    this.#delayMs = options.backoffMs ?? 1000
  }

  health(): KioskBrowserHealth {
    let state: KioskBrowserHealth['state'] = 'stopped'
    if (!this.enabled) state = 'disabled'
    else if (this.#child) state = 'running'
    else if (this.#timer) state = 'restarting'
    return {
      state,
      pid: this.#child?.pid ?? null,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
    }
  }

  start() {
    if (!this.enabled || this.#started) return
    this.#started = true
    this.#stopping = false
    this.#launch()
  }

  async stop() {
    this.#stopping = true
    this.#started = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const child = this.#child
    if (!child) return
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
    killGroup(child, 'SIGTERM')
    const timeout = setTimeout(
      () => killGroup(child, 'SIGKILL'),
      this.#options.stopTimeoutMs ?? 5000
    )
    await exited
    clearTimeout(timeout)
  }

  #launch() {
    this.#timer = null
    mkdirSync(this.#options.profileDir, { recursive: true })
    const startedAt = Date.now()
    const child = spawn(
      this.#options.executable ?? '/usr/bin/chromium',
      kioskBrowserArgs(this.#options),
      { stdio: 'ignore', detached: true }
    )
    this.#child = child
    track(child)
    let spawnError: string | null = null
    child.once('error', (error) => {
      spawnError = error.message
    })
    // 'close' also follows a browser that could not be started at all, where 'exit' may not.
    child.once('close', (code, signal) => {
      if (this.#child === child) this.#child = null
      // A browser gone before its group: its renderers are orphans of no use.
      killGroup(child, 'SIGKILL')
      this.#lastExit = spawnError ?? (signal ? `signal ${signal}` : `exit code ${code}`)
      this.#options.onExit?.(code, signal)
      if (this.#stopping) return
      if (Date.now() - startedAt >= (this.#options.healthyAfterMs ?? 60_000)) {
        this.#delayMs = this.#options.backoffMs ?? 1000
      }
      this.#restarts++
      this.#timer = setTimeout(() => this.#launch(), this.#delayMs)
      this.#delayMs = Math.min(this.#delayMs * 2, this.#options.maxBackoffMs ?? 30_000)
    })
  }
}
