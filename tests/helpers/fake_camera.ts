import { spawnSync } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import { chromium, type Browser } from 'playwright'
import app from '@adonisjs/core/services/app'

/**
 * A Chromium of its own whose camera films a fixture photo: Chromium's fake
 * capture device plays a video that ffmpeg makes from the photo (640×480,
 * letterboxed) into tmp/, and grants the camera without asking. The suite's
 * shared browser (tests/bootstrap.ts) has no camera; this one is for the
 * webcam capture's tests. With `hostAlias`, that name leads to this machine,
 * for pages served from an address that is not a secure context (not
 * HTTPS, not localhost). `close` stops it and removes the video.
 */
export async function browserFilming(
  photo: string,
  options: { hostAlias?: string } = {}
): Promise<{
  browser: Browser
  close: () => Promise<void>
}> {
  const video = app.makePath('tmp', `camera-${basename(photo, extname(photo))}-${process.pid}.y4m`)
  const made = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    app.makePath('tests/fixtures', photo),
    '-vf',
    'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,format=yuv420p',
    '-r',
    '10',
    '-frames:v',
    '10',
    video,
  ])
  if (made.status !== 0) throw new Error(`ffmpeg could not make ${video}: ${made.stderr}`)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
      ...(options.hostAlias ? [`--host-resolver-rules=MAP ${options.hostAlias} 127.0.0.1`] : []),
    ],
  })
  return {
    browser,
    close: async () => {
      await browser.close()
      await rm(video, { force: true })
    },
  }
}
