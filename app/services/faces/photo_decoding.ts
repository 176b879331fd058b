import terminalConfig from '#config/terminal'
import { ImageDecoder, type ImageDecodeResult } from '#faces/image_decoder'
import type { TerminalFailure } from '#services/terminal/protocol'

const failureTypes = {
  unreadable: 'unreadable_file',
  not_image: 'not_image',
  too_large: 'image_too_large',
} as const

export type TerminalImage =
  Extract<ImageDecodeResult, { ok: true }> | { ok: false; error: TerminalFailure }

/**
 * Decodes an uploaded image for an endpoint, the pixel count checked from
 * the header first: a damaged file is 9113, something that is no photo
 * 69640, too many pixels 69642. `field` names the upload in the message.
 */
export async function decodeTerminalImage(
  bytes: Uint8Array,
  field: string
): Promise<TerminalImage> {
  const decoded = await new ImageDecoder({ maxPixels: terminalConfig.images.maxPixels }).decode(
    bytes
  )
  if (decoded.ok) return decoded
  return {
    ok: false,
    error: {
      type: failureTypes[decoded.error.type],
      message: `${field}: ${decoded.error.message}`,
    },
  }
}
