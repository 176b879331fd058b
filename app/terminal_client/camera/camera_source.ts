import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import type { DecodedImage } from '#plugin-sdk'
import { fitWithin, PpmFrameParser, ppmOutputArgs } from '#services/ffmpeg_frames'

export type CameraKind = 'v4l2' | 'rtsp' | 'file' | 'folder'

export type CameraOptions = {
  /** Frames handed out per second at most (ffmpeg's fps filter drops the rest before decoding them to RGB). */
  maxFps?: number
  /** Frames are scaled down to fit this many pixels on their longer side. */
  maxSide?: number
  /** A webcam's capture size asked of the device, e.g. `1280x720`. */
  videoSize?: string
  /** A webcam's capture rate asked of the device. */
  deviceFps?: number
  /** A file or folder starts again at its end instead of ending the frames. */
  loop?: boolean
  /**
   * `realtime`: a file is read at its own pace and a slow consumer gets the
   * latest frame (as from a camera); `asap`: as fast as the consumer takes
   * frames, none dropped (tests, benchmarks). Cameras are always realtime.
   */
  pace?: 'realtime' | 'asap'
  /** An RTSP camera that sends nothing for this long is reopened. */
  timeoutMs?: number
  /** Reopening waits this long first, doubling up to `maxBackoffMs`. */
  backoffMs?: number
  maxBackoffMs?: number
  signal?: AbortSignal
  ffmpeg?: string
}

export type CameraFrame = {
  /** Frames read from the source so far, counting those dropped. */
  index: number
  /** When the frame was read (ms since the epoch). */
  at: number
  image: DecodedImage
}

export type CameraHealth = {
  kind: CameraKind
  source: string
  state: 'starting' | 'running' | 'reopening' | 'ended' | 'stopped'
  /** Why the source was last reopened. */
  lastError: string | null
  /** Frames handed out per second, over the last few seconds. */
  fps: number
  lastFrameAt: number | null
  width: number | null
  height: number | null
  frames: number
  /** Frames replaced by a newer one before the consumer took them. */
  dropped: number
  reopens: number
  /** Milliseconds until the next attempt while reopening. */
  retryInMs: number | null
}

const imageExtensions = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp'])
const fpsWindowMs = 5000

/** The ffmpeg processes of every source of this process, killed if it exits with them running. */
const running = new Set<ChildProcess>()
let exitHookInstalled = false
function track(child: ChildProcess) {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const process of running) process.kill('SIGKILL')
    })
  }
  running.add(child)
  child.once('close', () => running.delete(child))
}

export function cameraKind(source: string): CameraKind {
  if (/^rtsps?:\/\//i.test(source)) return 'rtsp'
  if (source.startsWith('/dev/video')) return 'v4l2'
  if (existsSync(source) && statSync(source).isDirectory()) return 'folder'
  return 'file'
}

/** The source as shown in health and logs: an RTSP URL without its password. */
export function redactSource(source: string) {
  return source.replace(/^(rtsps?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')
}

/** ffmpeg's input arguments for a source (a folder's images are read one ffmpeg run each). */
export function cameraInputArgs(source: string, kind: CameraKind, options: CameraOptions = {}) {
  const pace = options.pace ?? 'realtime'
  switch (kind) {
    case 'v4l2':
      return [
        '-f',
        'v4l2',
        ...(options.deviceFps ? ['-framerate', String(options.deviceFps)] : []),
        ...(options.videoSize ? ['-video_size', options.videoSize] : []),
        '-i',
        source,
      ]
    case 'rtsp':
      return [
        '-rtsp_transport',
        'tcp',
        '-timeout',
        String(Math.round((options.timeoutMs ?? 5000) * 1000)),
        '-fflags',
        'nobuffer',
        '-i',
        source,
      ]
    case 'file':
    case 'folder':
      return [
        ...(pace === 'realtime' && kind === 'file' ? ['-re'] : []),
        ...(options.loop && kind === 'file' ? ['-stream_loop', '-1'] : []),
        '-i',
        source,
      ]
  }
}

/** The whole ffmpeg command line for one run of a source. */
export function cameraFfmpegArgs(source: string, kind: CameraKind, options: CameraOptions = {}) {
  const filters = [fitWithin(options.maxSide ?? 960)]
  if (kind !== 'folder') filters.unshift(`fps=${options.maxFps ?? 5}`)
  return [
    '-hide_banner',
    '-v',
    'error',
    '-nostdin',
    ...cameraInputArgs(source, kind, options),
    ...ppmOutputArgs(filters),
  ]
}

/**
 * Frames of a webcam, an RTSP camera, a video file or a folder of images,
 * decoded by ffmpeg to upright RGB at a bounded rate and size, handed out
 * one at a time: never more than one frame waits for the consumer, and a
 * consumer slower than the camera gets the latest frame, not a backlog.
 * A camera unplugged, a stream cut or a file gone is reopened with capped
 * exponential backoff; `health()` says how it goes. `stop()` (or the
 * signal, or leaving the loop) ends the frames and kills ffmpeg.
 */
export class CameraSource implements AsyncIterable<CameraFrame> {
  readonly kind: CameraKind
  readonly #source: string
  readonly #options: CameraOptions
  readonly #lossless: boolean
  #state: CameraHealth['state'] = 'starting'
  #lastError: string | null = null
  #frames = 0
  #dropped = 0
  #reopens = 0
  #lastFrameAt: number | null = null
  #size: { width: number; height: number } | null = null
  #recent: number[] = []
  #retryAt: number | null = null
  #slot: CameraFrame | null = null
  /** In `asap` pace, the rest of the frames one pipe chunk held, handed out before ffmpeg is read on. */
  #held: DecodedImage[] = []
  #waiter: (() => void) | null = null
  #child: ChildProcess | null = null
  #wake: (() => void) | null = null
  #started = false
  #finished = false
  #runDone: Promise<void> = Promise.resolve()

  constructor(source: string, options: CameraOptions = {}) {
    this.kind = cameraKind(source)
    this.#source = source
    this.#options = options
    this.#lossless =
      (options.pace ?? 'realtime') === 'asap' && (this.kind === 'file' || this.kind === 'folder')
    if (options.signal?.aborted) {
      this.#finished = true
      this.#state = 'stopped'
    }
    options.signal?.addEventListener('abort', () => this.stop(), { once: true })
  }

  health(now = Date.now()): CameraHealth {
    this.#recent = this.#recent.filter((at) => now - at <= fpsWindowMs)
    const span = this.#recent.length > 1 ? Math.max(now - this.#recent[0], 1000) : fpsWindowMs
    return {
      kind: this.kind,
      source: redactSource(this.#source),
      state: this.#state,
      lastError: this.#lastError,
      fps:
        this.#recent.length > 1 ? Math.round(((this.#recent.length - 1) / span) * 10000) / 10 : 0,
      lastFrameAt: this.#lastFrameAt,
      width: this.#size?.width ?? null,
      height: this.#size?.height ?? null,
      frames: this.#frames,
      dropped: this.#dropped,
      reopens: this.#reopens,
      retryInMs: this.#retryAt === null ? null : Math.max(0, this.#retryAt - now),
    }
  }

  /** Starts reading; iterating starts it too. */
  start() {
    if (this.#started || this.#finished) return
    this.#started = true
    this.#runDone = this.#run()
  }

  /** Ends the frames and waits until ffmpeg is gone. */
  async stop() {
    if (!this.#finished) {
      this.#finished = true
      this.#state = 'stopped'
      this.#retryAt = null
      this.#slot = null
      this.#held = []
      this.#child?.kill('SIGKILL')
      this.#wake?.()
      this.#notify()
    }
    await this.#runDone
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CameraFrame> {
    this.start()
    try {
      while (true) {
        const frame = await this.#next()
        if (!frame) return
        yield frame
      }
    } finally {
      await this.stop()
    }
  }

  async #next(): Promise<CameraFrame | null> {
    while (!this.#slot) {
      if (this.#finished) return null
      await new Promise<void>((resolve) => (this.#waiter = resolve))
    }
    const frame = this.#slot
    this.#slot = null
    const held = this.#held.shift()
    if (held) this.#deliver(held)
    else this.#child?.stdout?.resume()
    const now = Date.now()
    this.#recent.push(now)
    if (this.#recent.length > 200) this.#recent.shift()
    return frame
  }

  #notify() {
    const waiter = this.#waiter
    this.#waiter = null
    waiter?.()
  }

  #deliver(image: DecodedImage) {
    // What ffmpeg had written before it was killed is not a frame of a stopped camera.
    if (this.#finished) return
    const frame = { index: this.#frames, at: Date.now(), image }
    this.#frames++
    this.#lastFrameAt = frame.at
    this.#size = { width: image.width, height: image.height }
    this.#state = 'running'
    this.#retryAt = null
    if (this.#slot) this.#dropped++
    this.#slot = frame
    this.#notify()
  }

  async #run() {
    let backoff = this.#options.backoffMs ?? 500
    const maxBackoff = this.#options.maxBackoffMs ?? 30_000
    while (!this.#finished) {
      const framesBefore = this.#frames
      const outcome = await this.#attempt()
      if (this.#finished) break
      if (this.#frames > framesBefore) backoff = this.#options.backoffMs ?? 500
      // A folder shown again from its first image; a looping file never ends (ffmpeg loops it).
      if (outcome.ok && this.#options.loop && this.kind === 'folder') continue
      if (outcome.ok && !this.#options.loop && this.kind !== 'v4l2' && this.kind !== 'rtsp') {
        // The file or folder was read to its end: the frames end once the last one is taken.
        while ((this.#slot || this.#held.length) && !this.#finished) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        this.#finished = true
        this.#state = 'ended'
        this.#notify()
        break
      }
      this.#lastError = outcome.ok ? 'the stream ended' : outcome.error
      this.#state = 'reopening'
      this.#reopens++
      this.#retryAt = Date.now() + backoff
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = null
      backoff = Math.min(backoff * 2, maxBackoff)
    }
  }

  async #attempt(): Promise<{ ok: true } | { ok: false; error: string }> {
    const source = this.#source
    if (this.kind === 'v4l2' && !existsSync(source)) {
      return { ok: false, error: `no camera at ${source} (unplugged, or another device number)` }
    }
    if (this.kind === 'file' && !existsSync(source))
      return { ok: false, error: `the file ${source} is gone` }
    if (this.kind !== 'folder')
      return this.#ffmpeg(cameraFfmpegArgs(source, this.kind, this.#options))

    let images: string[]
    try {
      images = readdirSync(source)
        .filter((name) => imageExtensions.has(extname(name).toLowerCase()))
        .sort()
    } catch {
      return { ok: false, error: `the folder ${source} is gone` }
    }
    if (images.length === 0) return { ok: false, error: `the folder ${source} holds no images` }
    const interval = 1000 / (this.#options.maxFps ?? 5)
    for (const name of images) {
      if (this.#finished) break
      const startedAt = Date.now()
      const outcome = await this.#ffmpeg(
        cameraFfmpegArgs(join(source, name), 'folder', this.#options)
      )
      if (!outcome.ok) return outcome
      if ((this.#options.pace ?? 'realtime') === 'realtime') {
        const wait = interval - (Date.now() - startedAt)
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      } else {
        while ((this.#slot || this.#held.length) && !this.#finished) {
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      }
    }
    return { ok: true }
  }

  #ffmpeg(args: string[]): Promise<{ ok: true } | { ok: false; error: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.#options.ffmpeg ?? '/usr/bin/ffmpeg', args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      this.#child = child
      track(child)
      const parser = new PpmFrameParser()
      let stderr = ''
      let failure: string | null = null
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (text: string) => {
        if (stderr.length < 4000) stderr += text
      })
      child.stdout.on('data', (chunk: Buffer) => {
        try {
          const images = parser.push(chunk)
          if (this.#lossless && images.length > 0) {
            child.stdout.pause()
            this.#held.push(...images)
            if (!this.#slot) this.#deliver(this.#held.shift()!)
            return
          }
          for (const image of images) this.#deliver(image)
        } catch (error) {
          failure = (error as Error).message
          child.kill('SIGKILL')
        }
      })
      child.once('error', (error) => {
        failure = `ffmpeg could not be started: ${error.message}`
      })
      child.once('close', (code, signal) => {
        if (this.#child === child) this.#child = null
        const said = lastLine(stderr)
        if (failure) resolve({ ok: false, error: failure })
        else if (code === 0) resolve({ ok: true })
        else resolve({ ok: false, error: said || `ffmpeg ended (${signal ?? `exit ${code}`})` })
      })
    })
  }
}

function lastLine(text: string) {
  const lines = text.trim().split('\n').filter(Boolean)
  return lines.at(-1)?.trim() ?? ''
}
