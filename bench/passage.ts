/**
 * npm run bench:passage [-- <faces-dev folder>]
 *
 * The door's decision on the faces-dev clip (a man turning his head,
 * 640×360 at 30 frames a second): every frame through `analyseFrame` (the
 * engine's `detect`, then `analyse` of the largest face with quality and
 * liveness scores) on one engine worker, timed, with the passage
 * tracker's reading of it; then how many analysed frames, and how much of
 * the clip, each liveness requirement takes to decide at 5 to 30 analysed
 * frames a second, and the same for one frame of the clip held still.
 * `--min-face-size=<px>` sets the engine's smallest face (20 by default).
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import type { DecodedImage, FaceAnalysis } from '#plugin-sdk'
import { CameraSource } from '#terminal-client/camera/camera_source'
import { analyseFrame, type EngineCall } from '#terminal-client/recognition/frame_analysis'
import {
  PassageTracker,
  type LivenessRequirement,
  type PassageUpdate,
} from '#terminal-client/recognition/passage_tracker'
import { datasetFolder, option, startEngine } from './calibrate.js'

const folder = datasetFolder(
  process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? '../shared/data/faces-dev'
)
const clip = join(folder, 'video', 'Lin-Manuel_Miranda_single_face.mp4')
const clipFps = 30

function table(header: string[], rows: string[][]) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  )
  for (const row of [header, header.map((_, column) => '-'.repeat(widths[column])), ...rows]) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '))
  }
  console.log()
}

function percentile(values: number[], share: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]
}

const frames: DecodedImage[] = []
for await (const frame of new CameraSource(clip, { pace: 'asap', maxFps: clipFps })) {
  frames.push(frame.image)
}

const minFaceSize = Number(option('min-face-size') ?? 20)
const engine = await startEngine({ minFaceSize })
const call: EngineCall = (work) => engine.call(work)
// The first calls load the models' kernels; they are not what a door waits for.
for (const image of frames.slice(0, 3)) await analyseFrame(call, image)

const readings: FaceAnalysis[][] = []
const timings: { detectAndAnalyse: number; analyseOnly: number }[] = []
for (const image of frames) {
  let started = performance.now()
  readings.push(await analyseFrame(call, image))
  const detectAndAnalyse = performance.now() - started
  started = performance.now()
  await analyseFrame(call, image, { everyFace: false })
  timings.push({ detectAndAnalyse, analyseOnly: performance.now() - started })
}
await engine.stop()

const at = (index: number) => Math.round((index * 1000) / clipFps)
const perFrame = new PassageTracker<number>({ liveness: 'blink_or_turn' })
const perFrameRows = readings.map((faces, index) => {
  const update = perFrame.observe({ at: at(index), frame: frames[index], faces, handle: index })
  const face = faces[0]?.face
  return [
    `${index}`,
    `${at(index)}`,
    timings[index].detectAndAnalyse.toFixed(1),
    timings[index].analyseOnly.toFixed(1),
    face?.pose ? face.pose.yaw.toFixed(1) : '-',
    face?.eyes ? ((face.eyes.left + face.eyes.right) / 2).toFixed(3) : '-',
    faces[0]?.quality ? faces[0].quality.score.toFixed(2) : '-',
    update.state,
    update.guidance ?? '',
    update.ready
      ? `ready: frame ${update.ready.handle}, ${update.ready.liveness.method}, proven ${update.ready.liveness.proven}`
      : '',
  ]
})
console.log(
  `load ${loadavg()[0].toFixed(2)} on ${process.arch}; ${clip}; engine minFaceSize ${minFaceSize}`
)
console.log(`Per frame, at ${clipFps} analysed frames a second, liveness blink_or_turn:`)
table(
  [
    'frame',
    'ms in clip',
    'detect+analyse ms',
    'analyse only ms',
    'yaw°',
    'eyes',
    'quality',
    'state',
    'guidance',
    'decision',
  ],
  perFrameRows
)

const both = timings.map((timing) => timing.detectAndAnalyse)
const single = timings.map((timing) => timing.analyseOnly)
table(
  ['per frame', 'median ms', 'p95 ms', 'max ms'],
  [
    ['analyseFrame (detect + analyse)', both, 0],
    ['analyseFrame everyFace: false (analyse)', single, 0],
  ].map(([name, values]) => [
    name as string,
    percentile(values as number[], 0.5).toFixed(1),
    percentile(values as number[], 0.95).toFixed(1),
    Math.max(...(values as number[])).toFixed(1),
  ])
)

function decide(indices: number[], liveness: LivenessRequirement, fps: number) {
  const tracker = new PassageTracker<number>({ liveness })
  let analysed = 0
  for (const [step, index] of indices.entries()) {
    analysed++
    const update: PassageUpdate<number> = tracker.observe({
      at: Math.round((step * 1000) / fps),
      frame: frames[index],
      faces: readings[index],
      handle: index,
    })
    if (update.ready) {
      const { method, proven } = update.ready.liveness
      return [
        `${analysed}`,
        `${Math.round((step * 1000) / fps)}`,
        `${method}`,
        `${proven}`,
        `${update.ready.handle}`,
      ]
    }
  }
  return [`${analysed} (none)`, '-', '-', '-', '-']
}

const rows: string[][] = []
const requirements: LivenessRequirement[] = ['none', 'blink', 'turn', 'blink_or_turn']
for (const fps of [5, 10, 15, 30]) {
  const stride = clipFps / fps
  const indices = frames.map((_, index) => index).filter((index) => index % stride === 0)
  for (const liveness of requirements) {
    rows.push(['clip', `${fps}`, liveness, ...decide(indices, liveness, fps)])
  }
}
// Frame 66 of the clip is frontal and sharp: as a photo held still, its readings never change.
const held = Array.from({ length: 10 * 8 }, () => 66)
for (const liveness of requirements)
  rows.push(['frame 66 held', '10', liveness, ...decide(held, liveness, 10)])
console.log('Frames to decision (the clip is 3.2 s; the liveness time limit 4 s):')
table(
  [
    'input',
    'fps',
    'liveness',
    'frames analysed',
    'ms to decision',
    'method',
    'proven',
    'best frame',
  ],
  rows
)
