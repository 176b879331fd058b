import env from '#start/env'

/**
 * Video registration: an operator's upload on a person's page, read by a
 * job with ffmpeg (Debian's /usr/bin/ffmpeg and ffprobe).
 */
const videoConfig = {
  maxBytes: env.get('VIDEO_MAX_MB', 200) * 1024 * 1024,
  /** A shorter video rarely shows the face long enough to choose a frame. */
  minSeconds: 1,
  maxSeconds: env.get('VIDEO_MAX_SECONDS', 60),
  /** Frames handed to the engine per second of video; bounds the work of a long video. */
  sampleFps: env.get('VIDEO_SAMPLE_FPS', 4),
  /** Frames are scaled to fit this many pixels on their longer side before detection. */
  maxFrameSide: 960,
  /** How many of the best frames are enrolled (different head poses where the video has them). */
  enrolFrames: Math.max(1, Math.round(env.get('VIDEO_ENROL_FRAMES', 3))),
  containers: ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm'],
  codecs: ['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'mjpeg'],
  ffmpeg: '/usr/bin/ffmpeg',
  ffprobe: '/usr/bin/ffprobe',
}

export default videoConfig
export type VideoConfig = typeof videoConfig
