import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { CameraSource } from '#terminal-client/camera/camera_source'
import { FrameGate } from '#terminal-client/camera/frame_gate'

/**
 * An installer's check of a camera before the agent uses it: opens the
 * source the agent would (a /dev/videoN webcam, an rtsp:// URL, a video
 * file or a folder of images) for a few seconds and prints each second
 * the frames per second, frame size, brightness and motion, then a summary.
 */
export default class CameraProbeCommand extends BaseCommand {
  static commandName = 'camera:probe'
  static description =
    'Open a camera (/dev/videoN, rtsp://…, a video file or a folder) and print its frame rate, size, brightness and motion'
  static options: CommandOptions = { startApp: false }

  @args.string({
    description:
      'The camera: /dev/video0, rtsp://user:password@host/stream, a video file or a folder of images',
  })
  declare source: string

  @flags.number({ description: 'Seconds to read (default 5)' })
  declare seconds?: number

  @flags.number({ description: 'Frames per second asked at most (default 5)' })
  declare fps?: number

  @flags.string({ description: "A webcam's capture size, e.g. 1280x720" })
  declare size?: string

  async run() {
    const seconds = this.seconds ?? 5
    const stop = new AbortController()
    const camera = new CameraSource(this.source, {
      maxFps: this.fps ?? 5,
      videoSize: this.size,
      loop: true,
      signal: stop.signal,
    })
    const gate = new FrameGate()
    const startedAt = Date.now()
    const timer = setTimeout(() => stop.abort(), seconds * 1000)
    const report = setInterval(() => {
      const health = camera.health()
      if (health.state === 'reopening') {
        this.logger.warning(`reopening in ${health.retryInMs} ms: ${health.lastError}`)
      }
    }, 1000)
    let frames = 0
    let brightness = 0
    let motion = 0
    let motionFrames = 0
    let second = 0
    let line = { frames: 0, brightness: 0, motion: 0 }
    try {
      for await (const frame of camera) {
        const measure = gate.measure(frame.image)
        frames++
        brightness += measure.brightness
        line.frames++
        line.brightness += measure.brightness
        if (measure.motion !== null) {
          motion += measure.motion
          motionFrames++
          line.motion = Math.max(line.motion, measure.motion)
        }
        const now = Math.floor((Date.now() - startedAt) / 1000)
        if (now > second) {
          second = now
          this.logger.info(
            `${frame.image.width}×${frame.image.height}  ${line.frames} frames  ` +
              `brightness ${(line.brightness / line.frames).toFixed(0)}  motion ${line.motion.toFixed(1)}` +
              `${measure.dark ? '  (dark: fill light wanted)' : ''}`
          )
          line = { frames: 0, brightness: 0, motion: 0 }
        }
      }
    } finally {
      clearTimeout(timer)
      clearInterval(report)
    }
    const health = camera.health()
    if (frames === 0) {
      this.logger.error(
        `no frame in ${seconds} s from ${health.source}: ${health.lastError ?? 'nothing read'}`
      )
      this.exitCode = 1
      return
    }
    const elapsed = (Date.now() - startedAt) / 1000
    this.logger.success(
      `${health.source}: ${frames} frames in ${elapsed.toFixed(1)} s (${(frames / elapsed).toFixed(1)} fps), ` +
        `${health.width}×${health.height}, brightness ${(brightness / frames).toFixed(0)}/255, ` +
        `mean motion ${(motionFrames ? motion / motionFrames : 0).toFixed(1)}/255, ` +
        `${health.reopens} reopens${health.lastError ? ` (last: ${health.lastError})` : ''}`
    )
  }
}
