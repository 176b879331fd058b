import terminalConfig from '#config/terminal'
import { ImageDecoder, type ImageDecodeResult } from '#faces/image_decoder'
import { PixelBudget } from '#faces/pixel_budget'

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

/** A photo's pixels and format. */
export type DecodedPhotoPixels = Omit<Extract<ImageDecodeResult, { ok: true }>, 'release'>

export type DecodedPhoto = DecodedPhotoPixels | { ok: false; error: PhotoFailure }

/**
 * The decoded pixels every request of this process holds at once: what
 * bounds the server's memory when many terminals send large pictures
 * together (IMAGE_DECODE_BUDGET_PIXELS).
 */
export const decodeBudget = new PixelBudget(terminalConfig.images.decodeBudgetPixels)

/**
 * Decodes an uploaded photo (a terminal's picture, an operator's upload)
 * within the upload limits and the decode budget, and hands the pixels to
 * `use`; they count against the budget until `use` settles. Refused are a
 * damaged file, something that is no photo, and too many pixels, for the
 * limit or for the budget within its wait. `field` names the upload in
 * the message.
 */
export async function withDecodedPhoto<Result>(
  bytes: Uint8Array,
  field: string,
  use: (photo: DecodedPhotoPixels) => Promise<Result>
): Promise<Result | { ok: false; error: PhotoFailure }> {
  const decoded = await new ImageDecoder({
    maxPixels: terminalConfig.images.maxPixels,
    budget: { pixels: decodeBudget, waitMs: terminalConfig.images.decodeWaitMs },
  }).decode(bytes)
  if (!decoded.ok) {
    return {
      ok: false,
      error: {
        type: failureTypes[decoded.error.type],
        message: `${field}: ${decoded.error.message}`,
      },
    }
  }
  const { release, ...photo } = decoded
  try {
    return await use(photo)
  } finally {
    release()
  }
}

/**
 * A photo decoded and checked, for a caller that only needs to know it is
 * one (and its format): the pixels count against the budget while they are
 * decoded, not after. A caller that works on them uses `withDecodedPhoto`.
 */
export function decodePhoto(bytes: Uint8Array, field: string): Promise<DecodedPhoto> {
  return withDecodedPhoto(bytes, field, async (photo) => photo)
}
