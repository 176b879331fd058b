import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import {
  CameraSource,
  cameraFfmpegArgs,
  redactSource,
  type CameraFrame,
  type CameraHealth,
} from '#terminal-client/camera/camera_source'
import { FrameGate } from '#terminal-client/camera/frame_gate'
import { startRtspServer } from '#tests/helpers/rtsp_server'
import { patternClip, zoomClip } from '#tests/helpers/video_clips'

const clips = app.makePath('tmp', `camera_spec_${process.pid}`)
const fixture = (name: string) => app.makePath('tests/fixtures', name)

function ffmpeg(args: string[], output: string) {
  const result = spawnSync('/usr/bin/ffmpeg', ['-y', '-v', 'error', ...args, output], {
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`)
  return output
}

const h264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p']

/** One photo held still in front of the camera for `seconds`. */
function stillClip(output: string, seconds = 3) {
  return ffmpeg(
    [
      '-loop',
      '1',
      '-framerate',
      '25',
      '-i',
      fixture('faces/kit_harington.jpg'),
      '-vf',
      'scale=640:-2',
      '-t',
      String(seconds),
      ...h264,
    ],
    output
  )
}

/** The photo sliding past the camera: something moves in every frame. */
function slidingClip(output: string, seconds = 3) {
  return ffmpeg(
    [
      '-loop',
      '1',
      '-framerate',
      '25',
      '-i',
      fixture('faces/kit_harington.jpg'),
      '-vf',
      "scale=1600:-2,crop=640:480:'t*300':0",
      '-t',
      String(seconds),
      ...h264,
    ],
    output
  )
}

async function take(source: CameraSource, count: number) {
  const frames: CameraFrame[] = []
  for await (const frame of source) {
    frames.push(frame)
    if (frames.length === count) break
  }
  return frames
}

async function waitFor(
  source: CameraSource,
  condition: (health: CameraHealth) => boolean,
  ms = 20_000
) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const health = source.health()
    if (condition(health)) return health
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`camera never got there: ${JSON.stringify(source.health())}`)
}

/** The ffmpeg processes reading `path`, by their command line (this test's own, under a per-run folder). */
function ffmpegsReading(path: string) {
  const result = spawnSync('pgrep', ['-f', `ffmpeg.*${path}`], { encoding: 'utf8' })
  return result.stdout.split('\n').filter(Boolean).map(Number)
}

test.group('Terminal agent camera', (group) => {
  group.setup(() => {
    mkdirSync(clips, { recursive: true })
    patternClip(join(clips, 'pattern.mp4'), 3)
    // The same pattern as a phone films it turned: stored landscape with a 90° display rotation.
    execFileSync('/usr/bin/ffmpeg', [
      '-y',
      '-v',
      'error',
      '-i',
      join(clips, 'pattern.mp4'),
      '-c',
      'copy',
      '-metadata:s:v',
      'rotate=90',
      join(clips, 'rotated.mp4'),
    ])
    return () => rmSync(clips, { recursive: true, force: true })
  })

  test('a video file is read at the bounded rate and size', async ({ assert }) => {
    const asap = await take(
      new CameraSource(join(clips, 'pattern.mp4'), { pace: 'asap', maxFps: 5, maxSide: 320 }),
      100
    )
    // 3 s at 5 frames a second, whatever the clip's own 25.
    assert.isAtLeast(asap.length, 14)
    assert.isAtMost(asap.length, 16)
    for (const frame of asap) {
      assert.equal(frame.image.width, 320)
      assert.equal(frame.image.height, 240)
      assert.equal(frame.image.data.length, 320 * 240 * 3)
    }
    assert.deepEqual(
      asap.map((frame) => frame.index),
      [...asap.keys()]
    )

    const startedAt = Date.now()
    const realtime = new CameraSource(join(clips, 'pattern.mp4'), { maxFps: 5 })
    const frames = await take(realtime, 100)
    // At the clip's own pace: the 3 s clip takes at least 2.5 s however idle the machine.
    assert.isAtLeast(Date.now() - startedAt, 2500)
    assert.isAtLeast(frames.length, 12)
    assert.equal(frames[0].image.width, 640)
    assert.equal(realtime.health().state, 'ended')
    const { fps } = realtime.health()
    assert.isAbove(fps, 0)
    assert.isAtMost(fps, 7)
  }).timeout(60_000)

  test('a video with rotation metadata comes out upright', async ({ assert }) => {
    const [frame] = await take(new CameraSource(join(clips, 'rotated.mp4'), { pace: 'asap' }), 1)
    assert.equal(frame.image.width, 480)
    assert.equal(frame.image.height, 640)
  }).timeout(30_000)

  test('a clip made from a fixture photo is scaled down to fit', async ({ assert }) => {
    zoomClip(fixture('faces/rose_leslie.jpg'), join(clips, 'zoom.mp4'), {
      seconds: 2,
      width: 1280,
      height: 720,
    })
    const frames = await take(
      new CameraSource(join(clips, 'zoom.mp4'), { pace: 'asap', maxSide: 960 }),
      100
    )
    assert.isAtLeast(frames.length, 9)
    assert.equal(frames[0].image.width, 960)
    assert.equal(frames[0].image.height, 540)
  }).timeout(30_000)

  test('a folder of images gives each image once, fitted, then ends', async ({ assert }) => {
    const source = new CameraSource(fixture('faces'), { pace: 'asap', maxSide: 480 })
    const frames = await take(source, 100)
    assert.lengthOf(frames, 4)
    for (const frame of frames) {
      assert.isAtMost(Math.max(frame.image.width, frame.image.height), 480)
      assert.equal(frame.image.data.length, frame.image.width * frame.image.height * 3)
    }
    // The large photos are scaled down; a small one is not enlarged.
    assert.include(
      frames.map((frame) => Math.max(frame.image.width, frame.image.height)),
      480
    )
    assert.equal(source.health().state, 'ended')
    assert.equal(source.health().frames, 4)
  }).timeout(30_000)

  test('a looping folder starts again at its first image', async ({ assert }) => {
    const source = new CameraSource(fixture('faces'), { pace: 'asap', loop: true, maxSide: 240 })
    const frames = await take(source, 9)
    const sizes = frames.map((frame) => `${frame.image.width}x${frame.image.height}`)
    assert.deepEqual(sizes.slice(4, 8), sizes.slice(0, 4))
    assert.equal(source.health().reopens, 0)
  }).timeout(30_000)

  test('camera:probe prints the frame rate, size, brightness and motion, or why there is no frame', ({
    assert,
  }) => {
    const probe = (...args: string[]) =>
      spawnSync(process.execPath, ['ace', 'camera:probe', ...args], {
        cwd: app.makePath(),
        encoding: 'utf8',
        timeout: 30_000,
      })
    const read = probe(join(clips, 'pattern.mp4'), '--seconds=2')
    assert.equal(read.status, 0, read.stderr)
    assert.match(
      read.stdout,
      /pattern\.mp4: \d+ frames in [\d.]+ s \([\d.]+ fps\), 640×480, brightness \d+\/255, mean motion [\d.]+\/255, 0 reopens/
    )
    const missing = probe('/dev/video97', '--seconds=1')
    assert.equal(missing.status, 1)
    assert.include(missing.stdout + missing.stderr, 'no camera at /dev/video97')
  }).timeout(60_000)

  test('a slow consumer gets the latest frame, not a backlog', async ({ assert }) => {
    const source = new CameraSource(join(clips, 'pattern.mp4'), { maxFps: 25, loop: true })
    const taken: CameraFrame[] = []
    for await (const frame of source) {
      taken.push(frame)
      // The consumer works for 300 ms a frame while the camera delivers 25 a second.
      await new Promise((resolve) => setTimeout(resolve, 300))
      if (taken.length === 8) break
    }
    const health = source.health()
    assert.isAbove(health.dropped, 0)
    for (let index = 1; index < taken.length; index++) {
      assert.isAbove(taken[index].index, taken[index - 1].index + 1)
    }
    // Every frame read is either taken or counted dropped: none waits in a queue.
    assert.isAtMost(health.frames - health.dropped - taken.length, 1)
  }).timeout(30_000)

  test('an ffmpeg killed or a file gone is reopened and reported; stop leaves no ffmpeg', async ({
    assert,
  }) => {
    const path = join(clips, 'reopened.mp4')
    copyFileSync(join(clips, 'pattern.mp4'), path)
    const source = new CameraSource(path, { loop: true, backoffMs: 100, maxBackoffMs: 400 })
    source.start()
    await waitFor(source, (health) => health.state === 'running')
    const [pid] = ffmpegsReading(path)
    assert.isNumber(pid)
    process.kill(pid, 'SIGKILL')
    await waitFor(source, (health) => health.reopens >= 1)
    assert.match(source.health().lastError!, /SIGKILL/)
    const framesAfterKill = source.health().frames
    await waitFor(source, (health) => health.state === 'running' && health.frames > framesAfterKill)

    rmSync(path)
    for (const child of ffmpegsReading(path)) process.kill(child, 'SIGKILL')
    const gone = await waitFor(source, (health) => health.lastError?.includes('is gone') === true)
    assert.equal(gone.state, 'reopening')
    // Capped exponential backoff: the waits grow up to the cap, then stay there.
    const reopensThen = gone.reopens
    await waitFor(source, (health) => health.reopens >= reopensThen + 3)
    assert.isAtMost(source.health().retryInMs!, 400)

    copyFileSync(join(clips, 'pattern.mp4'), path)
    await waitFor(source, (health) => health.state === 'running')
    assert.isNull(source.health().retryInMs)
    assert.lengthOf(ffmpegsReading(path), 1)
    await source.stop()
    assert.equal(source.health().state, 'stopped')
    assert.lengthOf(ffmpegsReading(path), 0)
  }).timeout(60_000)

  test('ffmpeg does not outlive an agent that exits or is killed', async ({ assert }) => {
    const camera = app.makePath('app/terminal_client/camera/camera_source.ts')
    for (const [name, ending] of [
      ['exits', 'process.exit(0)'],
      ['killed', "process.kill(process.pid, 'SIGKILL')"],
    ]) {
      const path = join(clips, `agent_${name}.mp4`)
      copyFileSync(join(clips, 'pattern.mp4'), path)
      const script = join(clips, `agent_${name}.ts`)
      writeFileSync(
        script,
        `import { CameraSource } from ${JSON.stringify(camera)}
const source = new CameraSource(${JSON.stringify(path)}, { loop: true })
for await (const frame of source) {
  if (frame.index === 2) ${ending}
}
`
      )
      const agent = spawnSync(process.execPath, ['--import=@poppinss/ts-exec', script], {
        cwd: app.makePath(),
        encoding: 'utf8',
        timeout: 30_000,
      })
      assert.notInclude(agent.stderr, 'Error')
      // A SIGKILLed agent cannot kill ffmpeg: ffmpeg ends on its next write to the closed pipe.
      const until = Date.now() + 10_000
      while (ffmpegsReading(path).length > 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.lengthOf(ffmpegsReading(path), 0, `the agent that ${name}`)
    }
  }).timeout(60_000)

  test('the motion measure is ~0 for a still video and high for a moving one', async ({
    assert,
  }) => {
    const motions = async (path: string) => {
      const gate = new FrameGate()
      const frames = await take(new CameraSource(path, { pace: 'asap' }), 100)
      return frames
        .map((frame) => gate.measure(frame.image, frame.at).motion)
        .filter((value) => value !== null)
    }
    const still = await motions(stillClip(join(clips, 'still.mp4')))
    const moving = await motions(slidingClip(join(clips, 'sliding.mp4')))
    assert.isAtLeast(still.length, 10)
    assert.isAtMost(Math.max(...still), 1)
    assert.isAtLeast(Math.min(...moving), 8)
  }).timeout(60_000)

  test('the gate runs the engine while something moves or a face was seen, not for a still scene', ({
    assert,
  }) => {
    const gate = new FrameGate({ motionThreshold: 4, motionHoldMs: 1000, faceHoldMs: 2000 })
    const grey = (level: number) => ({
      width: 64,
      height: 48,
      data: new Uint8Array(64 * 48 * 3).fill(level),
    })
    assert.isTrue(gate.measure(grey(100), 0).active, 'a first frame is a new scene')
    assert.isTrue(gate.measure(grey(100), 500).active, 'within the hold')
    assert.isFalse(gate.measure(grey(100), 1600).active, 'still for longer than the hold')
    assert.isTrue(gate.measure(grey(140), 1800).active, 'a change of 40 levels is motion')
    assert.isFalse(gate.measure(grey(141), 3000).active)
    gate.faceSeen(3000)
    assert.isTrue(gate.measure(grey(141), 4500).active, 'a face seen 1.5 s ago')
    assert.isFalse(gate.measure(grey(141), 5500).active)
  })

  test('brightness is low for a darkened clip', async ({ assert }) => {
    const brightness = async (path: string) => {
      const gate = new FrameGate()
      const [frame] = await take(new CameraSource(path, { pace: 'asap' }), 1)
      return gate.measure(frame.image)
    }
    const lit = await brightness(
      zoomClip(fixture('faces/kit_harington.jpg'), join(clips, 'lit.mp4'), { seconds: 1 })
    )
    const dark = await brightness(
      zoomClip(fixture('faces/kit_harington.jpg'), join(clips, 'dark.mp4'), {
        seconds: 1,
        brightness: -0.5,
      })
    )
    assert.isFalse(lit.dark)
    assert.isTrue(dark.dark)
    assert.isBelow(dark.brightness, lit.brightness - 40)
  }).timeout(60_000)

  test('an RTSP camera is read over TCP and reopened when it cuts the stream', async ({
    assert,
    cleanup,
  }) => {
    // A keyframe every 10 frames, as cameras send, so a player that joins decodes within half a second.
    const clip = ffmpeg(
      ['-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=25', '-t', '4', ...h264, '-g', '10'],
      join(clips, 'camera.mp4')
    )
    const server = await startRtspServer(clip, join(clips, 'camera.sdp'))
    cleanup(() => server.close())
    const source = new CameraSource(server.url, { backoffMs: 100 })
    const frames: CameraFrame[] = []
    let afterReopen = 0
    for await (const frame of source) {
      frames.push(frame)
      if (frames.length === 3) server.dropClients()
      if (source.health().reopens >= 1) afterReopen++
      if (afterReopen === 3) break
    }
    assert.equal(frames[0].image.width, 640)
    assert.equal(frames[0].image.height, 480)
    const health = source.health()
    assert.equal(health.reopens, 1)
    assert.equal(health.lastError, 'the stream ended')
    assert.equal(health.source, server.url.replace(':secret@', ':***@'))
    assert.equal(health.state, 'stopped')
    assert.lengthOf(ffmpegsReading(server.url.split('@')[1]), 0)
  }).timeout(60_000)

  test('an unreachable RTSP camera is reopened with backoff and the health says why', async ({
    assert,
  }) => {
    const url = 'rtsp://door:secret@127.0.0.1:9/stream'
    const args = cameraFfmpegArgs(url, 'rtsp', { timeoutMs: 3000, maxFps: 4 })
    assert.include(args.join(' '), '-rtsp_transport tcp -timeout 3000000')
    assert.include(args.join(' '), 'fps=4')
    assert.equal(redactSource(url), 'rtsp://door:***@127.0.0.1:9/stream')

    const source = new CameraSource(url, { backoffMs: 100, maxBackoffMs: 800 })
    assert.equal(source.kind, 'rtsp')
    source.start()
    const health = await waitFor(source, (state) => state.reopens >= 3)
    assert.equal(health.state, 'reopening')
    assert.match(health.lastError!, /refused/i)
    assert.equal(health.source, 'rtsp://door:***@127.0.0.1:9/stream')
    assert.equal(health.frames, 0)
    await source.stop()
    assert.lengthOf(ffmpegsReading('127.0.0.1:9/stream'), 0)
  }).timeout(30_000)

  test('a webcam is asked its size and rate; a missing /dev/video path is reported', async ({
    assert,
  }) => {
    const args = cameraFfmpegArgs('/dev/video0', 'v4l2', { videoSize: '1280x720', deviceFps: 15 })
    assert.include(args.join(' '), '-f v4l2 -framerate 15 -video_size 1280x720 -i /dev/video0')
    const source = new CameraSource('/dev/video97', { backoffMs: 50 })
    assert.equal(source.kind, 'v4l2')
    source.start()
    const health = await waitFor(source, (state) => state.reopens >= 2)
    assert.equal(
      health.lastError,
      'no camera at /dev/video97 (unplugged, or another device number)'
    )
    await source.stop()
  }).timeout(30_000)
})
