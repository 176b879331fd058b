import terminalConfig from '#config/terminal'
import { ImageDecoder, type ImageDecodeResult } from '#faces/image_decoder'

const failureTypes = {
  unreadable: 'unreadable_file',
  not_image: 'not_image',
  too_large: 'image_too_large',
} as const

/** Why an uploaded file is no photo the server will read. */
export type PhotoFailure = {
  type: (typeof failureTypes)[keyof typeof failureTypes]
  message: string
}

export type DecodedPhoto =
  Extract<ImageDecodeResult, { ok: true }> | { ok: false; error: PhotoFailure }

/**
 * Decodes an uploaded photo (a terminal's picture, an operator's upload)
 * within the upload limits, the pixel count checked from the header
 * first: a damaged file, something that is no photo, or too many pixels.
 * `field` names the upload in the message.
 */
export async function decodePhoto(bytes: Uint8Array, field: string): Promise<DecodedPhoto> {
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
