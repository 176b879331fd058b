/**
 * npm run bench:camera
 *
 * The terminal agent camera's cost on this machine: the frame gate
 * (motion and brightness) per frame at the sizes the camera hands out,
 * and reading a generated 720p clip through ffmpeg as fast as it decodes
 * at 5 and 25 frames a second (frames per second, and CPU per frame of
 * this process and of ffmpeg).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { CameraSource } from '#terminal-client/camera/camera_source'
import { FrameGate } from '#terminal-client/camera/frame_gate'

const folder = join(tmpdir(), `camera_bench_${process.pid}`)
mkdirSync(folder, { recursive: true })
const clip = join(folder, 'clip.mp4')
const made = spawnSync('/usr/bin/ffmpeg', [
  '-y',
  '-v',
  'error',
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=1280x720:rate=25',
  '-t',
  '10',
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-pix_fmt',
  'yuv420p',
  clip,
])
if (made.status !== 0) throw new Error('ffmpeg could not make the clip')

const rows: string[][] = []

for (const [width, height] of [
  [640, 480],
  [960, 540],
  [1920, 1080],
]) {
  const frames = Array.from({ length: 8 }, (_, index) => ({
    width,
    height,
    data: new Uint8Array(width * height * 3).map((__, byte) => (byte * 7 + index * 31) & 255),
  }))
  const gate = new FrameGate()
  for (const frame of frames) gate.measure(frame)
  const runs = 2000
  const started = process.cpuUsage()
  const at = performance.now()
  for (let index = 0; index < runs; index++)
    gate.measure(frames[index % frames.length], index * 200)
  const wall = (performance.now() - at) / runs
  const cpu = process.cpuUsage(started)
  rows.push([
    `gate.measure ${width}×${height}`,
    `${runs}`,
    `${(1000 / wall).toFixed(0)}`,
    `${((cpu.user + cpu.system) / runs / 1000).toFixed(3)} ms`,
    '-',
  ])
}

for (const fps of [5, 25]) {
  const source = new CameraSource(clip, { pace: 'asap', maxFps: fps })
  const started = process.cpuUsage()
  const at = performance.now()
  let frames = 0
  for await (const frame of source) {
    void frame
    frames++
  }
  const seconds = (performance.now() - at) / 1000
  const cpu = process.cpuUsage(started)
  rows.push([
    `read 720p clip → 960×540 at ${fps} fps`,
    `${frames}`,
    `${(frames / seconds).toFixed(0)}`,
    `${((cpu.user + cpu.system) / frames / 1000).toFixed(2)} ms`,
    `${((seconds * 1000) / frames).toFixed(1)} ms`,
  ])
}
rmSync(folder, { recursive: true, force: true })

console.log(`load ${loadavg()[0].toFixed(2)} on ${process.arch}`)
const header = ['measure', 'frames', 'frames/s', 'node CPU/frame', 'wall/frame (incl. ffmpeg)']
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column].length))
)
for (const row of [header, header.map((_, column) => '-'.repeat(widths[column])), ...rows]) {
  console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '))
}
