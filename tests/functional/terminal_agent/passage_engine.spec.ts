import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import sharp from 'sharp'
import {
  createPluginHarness,
  decodeImage,
  type DecodedImage,
  type DetectedFace,
  type PluginHarness,
} from '#plugin-sdk'
import faceEngine from '#plugins/face_engine/plugin'
import { CameraSource } from '#terminal-client/camera/camera_source'
import { analyseFrame, type EngineCall } from '#terminal-client/recognition/frame_analysis'
import {
  PassageTracker,
  type LivenessRequirement,
  type PassageUpdate,
} from '#terminal-client/recognition/passage_tracker'
import { zoomClip } from '#tests/helpers/video_clips'

/**
 * The passage tracker on the real engine's readings of real frames: the
 * MIT fixture photos (still, moved, eyes painted shut) and the faces-dev
 * clip of a man turning his head (tests/fixtures/video).
 */
const work = app.makePath('tmp', `passage_spec_${process.pid}`)
const fixture = (name: string) => app.makePath('tests/fixtures', name)

function ffmpeg(args: string[], output: string) {
  const result = spawnSync('/usr/bin/ffmpeg', ['-y', '-v', 'error', ...args, output], {
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`)
  return output
}

/** A photo held still in front of the camera: the same picture, re-encoded, frame after frame. */
function stillClip(photo: string, output: string, seconds: number) {
  return ffmpeg(
    [
      '-loop',
      '1',
      '-framerate',
      '10',
      '-i',
      photo,
      '-vf',
      'scale=640:-2',
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
    ],
    output
  )
}

/**
 * The photo with both eyes painted over in the skin's tone with a lash
 * line, where the engine places them: a stand-in for a shut eye, as no
 * permissively licensed photo of one is at hand.
 */
async function eyesShut(photo: string, face: DetectedFace, output: string) {
  const image = await decodeImage(photo)
  const [left, right] = face.landmarks
  const apart = Math.hypot(right[0] - left[0], right[1] - left[1])
  const colour = (x: number, y: number) => {
    const offset = (Math.round(y) * image.width + Math.round(x)) * 3
    return `rgb(${image.data[offset]},${image.data[offset + 1]},${image.data[offset + 2]})`
  }
  const eyes = [left, right]
    .map(
      ([x, y]) =>
        `<ellipse cx="${x}" cy="${y}" rx="${apart * 0.3}" ry="${apart * 0.16}" fill="${colour(x, y + apart * 0.45)}"/>` +
        `<path d="M ${x - apart * 0.26} ${y} Q ${x} ${y + apart * 0.08} ${x + apart * 0.26} ${y}" stroke="rgb(40,30,30)" stroke-width="${Math.max(1, apart * 0.035)}" fill="none"/>`
    )
    .join('')
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}"><filter id="soft"><feGaussianBlur stdDeviation="${apart * 0.02}"/></filter><g filter="url(#soft)">${eyes}</g></svg>`
  await sharp(photo)
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toFile(output)
  return output
}

/** Frames of a clip at its own pace, stamped by their place in it (not by how fast they are read). */
async function clipFrames(clip: string, fps: number) {
  const frames: { at: number; image: DecodedImage }[] = []
  for await (const frame of new CameraSource(clip, { pace: 'asap', maxFps: fps })) {
    frames.push({ at: Math.round((frame.index * 1000) / fps), image: frame.image })
  }
  return frames
}

async function walk(
  call: EngineCall,
  frames: { at: number; image: DecodedImage }[],
  liveness: LivenessRequirement
) {
  const tracker = new PassageTracker<number>({ liveness })
  const updates: PassageUpdate<number>[] = []
  for (const [index, { at, image }] of frames.entries()) {
    const faces = await analyseFrame(call, image)
    updates.push(tracker.observe({ at, frame: image, faces, handle: index }))
  }
  const decided = updates.flatMap((update, index) => (update.ready ? [{ index, ...update }] : []))
  return { updates, decided }
}

test.group('Passage on the real engine', (group) => {
  let engine: PluginHarness<'engine', unknown>
  let call: EngineCall

  group.setup(async () => {
    mkdirSync(work, { recursive: true })
    engine = await createPluginHarness(
      faceEngine,
      { poolSize: 1 },
      { timeouts: { callMs: 60_000, startMs: 60_000 } }
    )
    await engine.start()
    call = (job) => engine.call(job)
    return async () => {
      await engine.stop()
      rmSync(work, { recursive: true, force: true })
    }
  })
  group.each.timeout(120_000)

  test('the engine reads each face turning the way it is turned, whatever its roll', async ({
    assert,
  }) => {
    const yawOf = async (image: DecodedImage) => {
      const found = await call((driver) => driver.detect!({ image }))
      assert.isTrue(found.ok)
      return found.ok ? found.faces[0].pose! : null
    }
    const frontal = await yawOf(await decodeImage(fixture('faces/penny.png')))
    assert.isBelow(Math.abs(frontal!.yaw), 8, 'a frontal face')
    const turned = await yawOf(await decodeImage(fixture('pairs/kit_harington_02.jpg')))
    assert.isBelow(turned!.yaw, -15, 'looking towards the image left')
    const mirrored = await sharp(fixture('pairs/kit_harington_02.jpg')).flop().png().toBuffer()
    const flopped = await yawOf(await decodeImage(mirrored))
    assert.isAbove(flopped!.yaw, 15, 'its mirror image looks the other way')
    for (const angle of [90, 180, 270]) {
      const rotated = await yawOf(
        await decodeImage(fixture(`pairs/rotated/kit_harington_02_rot${angle}.jpg`))
      )
      assert.closeTo(rotated!.yaw, turned!.yaw, 3, `turned ${angle}°`)
      const rollTurned = (rotated!.roll - turned!.roll + 720) % 360
      assert.closeTo(rollTurned, angle, 8, `its roll follows the ${angle}° turn`)
    }
  })

  test('the engine reads eyes painted shut as much less open than the same eyes open', async ({
    assert,
  }) => {
    for (const name of ['faces/penny.png', 'faces/rose_leslie.jpg', 'pairs/kit_harington_01.jpg']) {
      const open = await call(async (driver) =>
        driver.detect!({ image: await decodeImage(fixture(name)) })
      )
      assert.isTrue(open.ok)
      if (!open.ok) return
      const shutFile = await eyesShut(fixture(name), open.faces[0], join(work, 'shut.png'))
      const shut = await call(async (driver) =>
        driver.detect!({ image: await decodeImage(shutFile) })
      )
      assert.isTrue(shut.ok)
      if (!shut.ok) return
      const mean = (face: DetectedFace) => (face.eyes!.left + face.eyes!.right) / 2
      assert.isBelow(mean(shut.faces[0]), 0.75 * mean(open.faces[0]), name)
    }
  })

  test('a photo held still is decided once, as not proven live, after four seconds', async ({
    assert,
  }) => {
    const frames = await clipFrames(
      stillClip(fixture('pairs/barack_obama_01.jpg'), join(work, 'still.mp4'), 7),
      10
    )
    const { updates, decided } = await walk(call, frames, 'blink_or_turn')
    assert.lengthOf(decided, 1)
    assert.deepInclude(decided[0].ready!.liveness, {
      required: true,
      proven: false,
      method: 'none',
    })
    const firstGood = updates.findIndex((update) => update.state === 'awaiting_liveness') - 1
    assert.closeTo(frames[decided[0].index].at - frames[firstGood].at, 4000, 100)
    assert.deepEqual(
      [...new Set(updates.slice(firstGood + 1, decided[0].index).map((update) => update.guidance))],
      ['blink', 'turn_head']
    )
    assert.isTrue(updates.slice(decided[0].index + 1).every((update) => update.state === 'decided'))
  })

  test('a photo moved towards the camera does not turn like a head', async ({ assert }) => {
    const frames = await clipFrames(
      zoomClip(fixture('pairs/kit_harington_01.jpg'), join(work, 'zoom.mp4'), { seconds: 6 }),
      10
    )
    const { decided } = await walk(call, frames, 'turn')
    assert.lengthOf(decided, 1)
    assert.deepInclude(decided[0].ready!.liveness, { proven: false, method: 'none' })
  })

  test('a photo swung left and right in front of the camera does not turn like a head', async ({
    assert,
  }) => {
    const photo = ffmpeg(
      ['-i', fixture('pairs/barack_obama_01.jpg'), '-vf', 'scale=640:-2'],
      join(work, 'swing_0.png')
    )
    // The photo's near edge taller than its far edge by up to 2×160 pixels of 800: turned about 40°.
    const swung = (shift: number) => {
      if (shift === 0) return photo
      const [near, far] = shift > 0 ? ['0', `${shift}`] : [`${-shift}`, '0']
      const corners = `x0=0:y0=${near}:x1=W:y1=${far}:x2=0:y2=H-${near}:x3=W:y3=H-${far}`
      return ffmpeg(
        ['-i', photo, '-vf', `perspective=${corners}:sense=destination`],
        join(work, `swing_${shift}.png`)
      )
    }
    const shifts = [0, 40, 80, 120, 160, 120, 80, 40, 0, -40, -80, -120, -160, -120, -80, -40]
    const images = new Map<number, DecodedImage>()
    for (const shift of new Set(shifts)) images.set(shift, await decodeImage(swung(shift)))
    const frames = Array.from({ length: 60 }, (_, index) => ({
      at: index * 100,
      image: images.get(shifts[index % shifts.length])!,
    }))
    const { updates, decided } = await walk(call, frames, 'turn')
    assert.lengthOf(decided, 1)
    assert.deepInclude(decided[0].ready!.liveness, { proven: false, method: 'none' })
    assert.equal(frames[decided[0].index].at, 4000, 'good from the first frame, decided 4 s later')
    assert.isTrue(
      updates.slice(1, decided[0].index).every((update) => update.guidance === 'turn_head')
    )
  })

  test('a blink (eyes painted shut in one frame) proves liveness; the same frames without it do not', async ({
    assert,
  }) => {
    const photo = join(work, 'rose.png')
    await sharp(fixture('faces/rose_leslie.jpg')).resize(640).png().toFile(photo)
    const open = await decodeImage(photo)
    const found = await call((driver) => driver.detect!({ image: open }))
    assert.isTrue(found.ok)
    if (!found.ok) return
    const shut = await decodeImage(await eyesShut(photo, found.faces[0], join(work, 'blink.png')))
    const sequence = (blink: boolean) =>
      Array.from({ length: 50 }, (_, index) => ({
        at: index * 100,
        image: blink && index === 8 ? shut : open,
      }))

    const blinking = await walk(call, sequence(true), 'blink')
    assert.lengthOf(blinking.decided, 1)
    assert.deepInclude(blinking.decided[0].ready!.liveness, { proven: true, method: 'blink' })
    assert.isBelow(blinking.decided[0].index, 12, 'decided right after the blink')
    assert.notEqual(blinking.decided[0].ready!.handle, 8, 'not on the frame with the eyes shut')

    const staring = await walk(call, sequence(false), 'blink')
    assert.lengthOf(staring.decided, 1)
    assert.deepInclude(staring.decided[0].ready!.liveness, { proven: false, method: 'none' })
  })

  test('a man turning his head on video proves liveness by the turn, in under a second', async ({
    assert,
  }) => {
    const frames = await clipFrames(fixture('video/Lin-Manuel_Miranda_single_face.mp4'), 10)
    const { decided } = await walk(call, frames, 'blink_or_turn')
    assert.lengthOf(decided, 1)
    assert.deepInclude(decided[0].ready!.liveness, { required: true, proven: true, method: 'turn' })
    assert.isBelow(frames[decided[0].index].at, 1000)
    assert.isTrue(decided[0].ready!.analysis.quality!.acceptable)
  })

  test('two people side by side are asked to come one at a time', async ({ assert }) => {
    const image = await decodeImage(fixture('groups/kit_with_rose.jpg'))
    const tracker = new PassageTracker<number>()
    const faces = await analyseFrame(call, image)
    assert.isAtLeast(faces.length, 2)
    for (let index = 0; index < 5; index++) {
      const update = tracker.observe({ at: index * 100, frame: image, faces, handle: index })
      assert.equal(update.guidance, 'one_at_a_time')
      assert.isUndefined(update.ready)
    }
  })
})
