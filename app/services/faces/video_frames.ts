import { spawn } from 'node:child_process'
import videoConfig from '#config/video'
import type { DecodedImage } from '#plugin-sdk'
import { PpmFrameParser, ppmOutputArgs } from '#services/ffmpeg_frames'

/** Why a file is no video this server enrols from. */
export type VideoFailure = {
  type: 'not_video' | 'unsupported_codec' | 'too_short' | 'too_long'
  message: string
}

/** What ffprobe tells of a video, with the size its frames are read at. */
export type VideoProbe = {
  container: string
  codec: string
  width: number
  height: number
  durationMs: number
  /** The frames' size once turned upright and scaled to fit `maxFrameSide`. */
  frameWidth: number
  frameHeight: number
}

type ProbeJson = {
  streams?: {
    codec_type?: string
    codec_name?: string
    width?: number
    height?: number
    duration?: string
    tags?: { rotate?: string }
    side_data_list?: { rotation?: number }[]
  }[]
  format?: { format_name?: string; duration?: string }
}

/**
 * Reads a video's container, codec, size and duration with ffprobe and
 * says why it will not be enrolled from, if it will not: a file ffprobe
 * cannot read or that holds no video stream (a photo is an image format,
 * not a video container), a codec or container not taken, or a video too
 * short or too long.
 */
export async function probeVideo(
  path: string
): Promise<{ ok: true; probe: VideoProbe } | { ok: false; error: VideoFailure }> {
  const notVideo = {
    ok: false as const,
    error: { type: 'not_video' as const, message: 'the file is not a video (MP4, WebM or MOV)' },
  }
  const output = await run(videoConfig.ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'format=format_name,duration:stream=codec_type,codec_name,width,height,duration:stream_tags=rotate:stream_side_data=rotation',
    '-of',
    'json',
    path,
  ])
  if (output.code !== 0) return notVideo
  let json: ProbeJson
  try {
    json = JSON.parse(output.stdout)
  } catch {
    return notVideo
  }
  const containers = (json.format?.format_name ?? '').split(',')
  const stream = json.streams?.find((candidate) => candidate.codec_type === 'video')
  if (
    !stream?.width ||
    !stream.height ||
    !containers.some((name) => videoConfig.containers.includes(name))
  ) {
    return notVideo
  }
  const codec = stream.codec_name ?? 'unknown'
  if (!videoConfig.codecs.includes(codec)) {
    return {
      ok: false,
      error: {
        type: 'unsupported_codec',
        message: `the video is encoded with ${codec}, which is not taken; record it as H.264, HEVC, VP8, VP9 or AV1`,
      },
    }
  }
  const seconds = Number(json.format?.duration ?? stream.duration)
  if (!Number.isFinite(seconds) || seconds < videoConfig.minSeconds) {
    return {
      ok: false,
      error: {
        type: 'too_short',
        message: `the video is too short (${Number.isFinite(seconds) ? seconds.toFixed(1) : '0'} s); record at least ${videoConfig.minSeconds} s of the face`,
      },
    }
  }
  if (seconds > videoConfig.maxSeconds) {
    return {
      ok: false,
      error: {
        type: 'too_long',
        message: `the video is too long (${Math.round(seconds)} s); at most ${videoConfig.maxSeconds} s are taken`,
      },
    }
  }
  const rotation = Math.abs(
    Number(
      stream.side_data_list?.find((data) => data.rotation !== undefined)?.rotation ??
        stream.tags?.rotate ??
        0
    )
  )
  const turned = rotation % 180 === 90
  const width = turned ? stream.height : stream.width
  const height = turned ? stream.width : stream.height
  const scale = Math.min(1, videoConfig.maxFrameSide / Math.max(width, height))
  return {
    ok: true,
    probe: {
      container: containers[0],
      codec,
      width,
      height,
      durationMs: Math.round(seconds * 1000),
      frameWidth: even(width * scale),
      frameHeight: even(height * scale),
    },
  }
}

/** One decoded frame: its index among the frames read and its time in the video. */
export type VideoFrame = { index: number; at: number; image: DecodedImage }

/**
 * The video's frames at `fps`, upright and scaled to the probe's frame
 * size, as ffmpeg writes them to a pipe (the same reader as the terminal
 * agent's camera): each frame is read whole and handed out before the
 * next is read, so the video is never in memory and ffmpeg waits while
 * the caller works. Breaking out of the loop (a cancelled job) or an
 * error kills ffmpeg.
 */
export async function* videoFrames(
  path: string,
  probe: VideoProbe,
  fps = videoConfig.sampleFps
): AsyncGenerator<VideoFrame> {
  const { frameWidth: width, frameHeight: height } = probe
  const ffmpeg = spawn(
    videoConfig.ffmpeg,
    [
      '-v',
      'error',
      '-nostdin',
      '-i',
      path,
      ...ppmOutputArgs([`fps=${fps}`, `scale=${width}:${height}`]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let stderr = ''
  ffmpeg.stderr.setEncoding('utf8')
  ffmpeg.stderr.on('data', (text: string) => {
    if (stderr.length < 4000) stderr += text
  })
  const exited = new Promise<number | null>((resolve) => {
    ffmpeg.once('close', (code) => resolve(code))
    ffmpeg.once('error', () => resolve(-1))
  })

  const parser = new PpmFrameParser()
  let index = 0
  try {
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      for (const image of parser.push(chunk)) {
        yield { index, at: index / fps, image }
        index++
      }
    }
    const code = await exited
    if (code !== 0)
      throw new Error(`ffmpeg could not decode the video: ${stderr.trim() || `exit ${code}`}`)
  } finally {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL')
  }
}

function even(value: number) {
  return Math.max(2, 2 * Math.round(value / 2))
}

function run(command: string, args: string[]) {
  return new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (text: string) => {
      stdout += text
    })
    child.once('error', () => resolve({ code: -1, stdout: '' }))
    child.once('close', (code) => resolve({ code, stdout }))
  })
}
