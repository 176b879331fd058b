import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Test videos made with Debian's ffmpeg at run time from the MIT fixture
 * photos, so no clip of a face needs committing beyond the faces-dev one.
 */
function ffmpeg(args: string[], output: string) {
  mkdirSync(dirname(output), { recursive: true })
  const result = spawnSync('/usr/bin/ffmpeg', ['-y', '-v', 'error', ...args, output], {
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`)
  return output
}

const h264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p']

/**
 * A slow zoom and pan over one photo, as a phone held up to a person
 * would film: `seconds` long, `width`×`height`, optionally darkened
 * (`brightness` from -1 to 0).
 */
export function zoomClip(
  photo: string,
  output: string,
  options: { seconds?: number; width?: number; height?: number; brightness?: number } = {}
) {
  const { seconds = 4, width = 640, height = 480, brightness = 0 } = options
  const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`
  const zoom = `zoompan=z='min(1+0.004*on,1.4)':x='iw/2-(iw/zoom/2)+on*0.3':y='ih/2-(ih/zoom/2)':d=1:s=${width}x${height}:fps=25`
  const filters = [fit, zoom, ...(brightness ? [`eq=brightness=${brightness}`] : [])]
  return ffmpeg(
    [
      '-loop',
      '1',
      '-framerate',
      '25',
      '-i',
      photo,
      '-vf',
      filters.join(','),
      '-t',
      String(seconds),
      ...h264,
    ],
    output
  )
}

/** ffmpeg's test pattern: a video with no face, in H.264 unless `codec` says otherwise. */
export function patternClip(output: string, seconds = 3, codec = h264) {
  return ffmpeg(
    ['-f', 'lavfi', '-i', `testsrc=size=640x480:rate=25`, '-t', String(seconds), ...codec],
    output
  )
}

/** A video repeated until it lasts `seconds`, scaled to `width`×`height` (the benchmark's 720p clip). */
export function loopedClip(
  input: string,
  output: string,
  options: { seconds: number; width?: number; height?: number }
) {
  const scale = options.width ? ['-vf', `scale=${options.width}:${options.height}`] : []
  return ffmpeg(
    ['-stream_loop', '-1', '-i', input, '-t', String(options.seconds), '-an', ...scale, ...h264],
    output
  )
}

/**
 * People passing a door one after another: each photo shown still for
 * `seconds`, scaled to `share` of the 640×480 frame (a close-up portrait
 * at 0.5 is a person a step from the camera), with `gapSeconds` of an
 * empty grey scene between them (long enough for the terminal to see the
 * person leave), at 10 fps; `leadSeconds` of the empty scene first.
 */
export function passagesClip(
  photos: string[],
  output: string,
  options: { seconds?: number; gapSeconds?: number; share?: number; leadSeconds?: number } = {}
) {
  const { seconds = 3, gapSeconds = 2.5, share = 0.5, leadSeconds = 0 } = options
  const [width, height] = [Math.round(640 * share), Math.round(480 * share)]
  const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=0x808080,setsar=1,fps=10,format=yuv420p`
  const inputs: string[] = []
  const parts: string[] = []
  photos.forEach((photo, index) => {
    inputs.push('-loop', '1', '-t', String(seconds), '-i', photo)
    inputs.push('-f', 'lavfi', '-t', String(gapSeconds), '-i', 'color=c=0x808080:s=640x480:r=10')
    parts.push(`[${2 * index}:v]${fit}[p${index}]`, `[${2 * index + 1}:v]${fit}[g${index}]`)
  })
  let chain = photos.map((_, index) => `[p${index}][g${index}]`).join('')
  let segments = 2 * photos.length
  if (leadSeconds > 0) {
    const lead = 2 * photos.length
    inputs.push('-f', 'lavfi', '-t', String(leadSeconds), '-i', 'color=c=0x808080:s=640x480:r=10')
    parts.push(`[${lead}:v]${fit}[lead]`)
    chain = `[lead]${chain}`
    segments++
  }
  const graph = `${parts.join(';')};${chain}concat=n=${segments}:v=1:a=0[out]`
  return ffmpeg([...inputs, '-filter_complex', graph, '-map', '[out]', ...h264], output)
}
