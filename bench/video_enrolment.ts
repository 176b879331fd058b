/**
 * npm run bench:video [-- --runs=3 --seconds=10 --fps=4 --frames=3]
 *
 * Video registration of a 10 s 720p clip (the faces-dev clip scaled to
 * 1280×720 and looped, made with ffmpeg), as the job runs it: the app is
 * booted as for an ace command on a SQLite database and storage folder of
 * its own (deleted afterwards), the engine started in this process, and
 * each run enrols a new person through VideoEnrolmentService. Prints the
 * time of each part: decode (waiting for ffmpeg's next frame; it decodes
 * ahead while the engine works), detect (detection, feature, quality and
 * liveness of every frame, and following the face), select (scoring,
 * keeping candidates, thumbnails) and enrol (FaceEnrolment of the chosen
 * frames); then ffmpeg's decoding alone. Needs Redis, as the server does
 * (REDIS_HOST, REDIS_PORT).
 */
import 'reflect-metadata'
import { rmSync } from 'node:fs'
import { copyFile, stat } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Ignitor } from '@adonisjs/core'
import { loopedClip } from '#tests/helpers/video_clips'
import { migrate } from './support/bench_server.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    fps: { type: 'string' },
    frames: { type: 'string' },
  },
})
const runs = Number(values.runs)
const tag = `bench_video_${process.pid}`
const dbFile = `${tag}.sqlite3`
Object.assign(process.env, {
  DB_CONNECTION: 'sqlite',
  DB_FILE: dbFile,
  STORAGE_DIR: `tmp/${tag}-storage`,
  LOG_LEVEL: 'warn',
  ...(values.fps ? { VIDEO_SAMPLE_FPS: values.fps } : {}),
  ...(values.frames ? { VIDEO_ENROL_FRAMES: values.frames } : {}),
})
const clip = `tmp/${tag}.mp4`
process.on('exit', () => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`tmp/${dbFile}${suffix}`, { force: true })
  rmSync(`tmp/${tag}-storage`, { recursive: true, force: true })
  rmSync(clip, { force: true })
})

migrate(dbFile)
loopedClip('tests/fixtures/video/Lin-Manuel_Miranda_single_face.mp4', clip, {
  seconds: Number(values.seconds),
  width: 1280,
  height: 720,
})

const root = new URL('../', import.meta.url)
const ignitor = new Ignitor(root, {
  importer: (path) => import(path.startsWith('.') ? new URL(path, root).href : path),
})
const app = ignitor
  .tap((booting) => booting.booting(async () => void (await import('#start/env'))))
  .createApp('console')
await app.init()
await app.boot()

const { default: videoConfig } = await import('#config/video')
const { default: Person } = await import('#models/person')
const { QueueFake } = await import('#services/queue_fake')
const { commandLineActor } = await import('#services/audit_trail')
const { GalleryIndex } = await import('#faces/gallery_index')
const { VideoEnrolmentService } = await import('#faces/video_enrolment')
const { probeVideo, videoFrames } = await import('#faces/video_frames')
const { default: EnrolFromVideoJob } = await import('#jobs/enrol_from_video_job')
const { PluginHost } = await import('#plugin-host/plugin_host')
const { DateTime } = await import('luxon')

const videos = await app.container.make(VideoEnrolmentService)
const gallery = await app.container.make(GalleryIndex)

type Row = { decode: number; detect: number; select: number; enrol: number; total: number }
const rows: Row[] = []
let frames = 0
let enrolled = 0
for (let run = 0; run < runs + 1; run++) {
  // Each run enrols the same face for a new person: the last one is removed first.
  await Person.query().where('username', 'like', 'bench.video.%').delete()
  await gallery.forget()
  const person = await Person.create({
    username: `bench.video.${run}`,
    displayName: `Bench ${run}`,
    status: 'active',
    consentGivenAt: DateTime.now(),
    consentTextVersion: 'bench',
  })
  const upload = `tmp/${tag}-upload.mp4`
  await copyFile(clip, upload)
  const queue = new QueueFake()
  const { size } = await stat(upload)
  const started = performance.now()
  const accepted = await videos.accept(
    commandLineActor(),
    person,
    { tmpPath: upload, clientName: 'bench.mp4', size },
    queue
  )
  if (!accepted.ok) throw new Error(accepted.error.message)
  const [payload] = queue.findAll(EnrolFromVideoJob)
  const result = await videos.run(payload, { last: true })
  const total = performance.now() - started
  if (result.status !== 'done' || !result.timings) {
    const row = await accepted.enrolment.refresh()
    throw new Error(`the run ended ${result.status}: ${row.reason}`)
  }
  await accepted.enrolment.refresh()
  frames = accepted.enrolment.framesRead
  enrolled = result.enrolled
  // The first run starts the engine and warms its sessions: not counted.
  if (run > 0) rows.push({ ...result.timings, total })
}

const probed = await probeVideo(clip)
if (!probed.ok) throw new Error(probed.error.message)
const decodeStarted = performance.now()
let decoded = 0
for await (const frame of videoFrames(clip, probed.probe)) decoded = frame.index + 1
const decodeAlone = performance.now() - decodeStarted

const median = (key: keyof Row) => {
  const sorted = rows.map((row) => row[key]).sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const total = median('total')
console.log(
  `\nVideo registration: ${values.seconds} s of 1280×720 H.264, ${videoConfig.sampleFps} frames/s read ` +
    `(${frames} frames at ${probed.probe.frameWidth}×${probed.probe.frameHeight}), ` +
    `${enrolled} frames enrolled; median of ${rows.length} runs after a warm-up; ` +
    `${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}\n`
)
console.log('| part | ms | share | ms per frame |')
console.log('|---|---:|---:|---:|')
for (const key of ['decode', 'detect', 'select', 'enrol'] as const) {
  const ms = median(key)
  console.log(
    `| ${key} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(0)}% | ${(ms / frames).toFixed(1)} |`
  )
}
console.log(
  `| total (upload accepted to job done) | ${total.toFixed(0)} | 100% | ${(total / frames).toFixed(1)} |`
)
console.log(
  `| ffmpeg decoding alone (${decoded} frames) | ${decodeAlone.toFixed(0)} | | ${(decodeAlone / decoded).toFixed(1)} |`
)

await Person.query().where('username', 'like', 'bench.video.%').delete()
const host = await app.container.make(PluginHost)
await host.stop()
await app.terminate()
process.exit(0)
