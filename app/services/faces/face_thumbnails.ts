import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inject } from '@adonisjs/core'
import sharp, { type Sharp } from 'sharp'
import terminalConfig from '#config/terminal'
import type { FaceBox } from '#models/face'
import { MediaStore } from '#faces/media_store'

/** The square sizes thumbnails come in, in pixels: a list's row, and the same on a sharp screen. */
export const thumbnailSizes = [96, 192] as const
export type ThumbnailSize = (typeof thumbnailSizes)[number]

/** How much of the face box's larger side the crop adds around it: hair, chin and ears. */
const faceMargin = 0.6

/** The background of a snapshot scaled into a square: the pages' own light grey. */
const padding = { r: 238, g: 240, b: 244 }

export type Thumbnail = { bytes: Buffer; contentType: 'image/jpeg' }

/**
 * Small square JPEGs of stored photos, so that pages show faces at a fixed
 * size without downloading whole photos or styling them: an enrolment
 * photo is cropped to the square around its face box, a snapshot is
 * scaled into the square whole. Each is made once and kept beside its
 * photo's other thumbnails (MediaStore.thumbnailFolder), owner-only like
 * the photo, and goes when the photo goes.
 */
@inject()
export class FaceThumbnails {
  constructor(private media: MediaStore) {}

  /** The thumbnail of a face: the square around its box, or the photo's centre without one. */
  face(storedPath: string | null, box: FaceBox | null, size: ThumbnailSize) {
    const name = box
      ? `face-${size}-${[box.left, box.top, box.right, box.bottom].map(Math.round).join('_')}.jpg`
      : `face-${size}.jpg`
    return this.#thumbnail(storedPath, name, (image, width, height) => {
      const square = faceSquare(box, width, height)
      return image.extract(square).resize(size, size, { fit: 'cover' })
    })
  }

  /** The thumbnail of an event's snapshot: the whole picture, scaled into the square. */
  picture(storedPath: string | null, size: ThumbnailSize) {
    return this.#thumbnail(storedPath, `picture-${size}.jpg`, (image) =>
      image.resize(size, size, { fit: 'contain', background: padding })
    )
  }

  async #thumbnail(
    storedPath: string | null,
    name: string,
    shape: (image: Sharp, width: number, height: number) => Sharp
  ): Promise<Thumbnail | null> {
    const source = await this.media.locate(storedPath)
    if (!source || !storedPath) return null
    const folder = this.media.thumbnailFolder(storedPath)
    if (folder) {
      const kept = await readFile(join(folder, name)).catch(() => null)
      if (kept) return { bytes: kept, contentType: 'image/jpeg' }
    }
    const options = { limitInputPixels: terminalConfig.images.maxPixels }
    const upright = await sharp(source.path, options)
      .rotate()
      .toBuffer({ resolveWithObject: true })
      .catch(() => null)
    if (!upright) return null
    const { width, height } = upright.info
    const bytes = await shape(sharp(upright.data, options), width, height)
      .flatten({ background: padding })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer()
    await this.media.saveThumbnail(storedPath, name, bytes)
    return { bytes, contentType: 'image/jpeg' }
  }
}

/**
 * The largest square, centred on the face, that holds the face with its
 * margin and stays inside the picture; the centre of the picture when
 * there is no box.
 */
export function faceSquare(box: FaceBox | null, width: number, height: number) {
  const limit = Math.min(width, height)
  if (!box) {
    return {
      left: Math.floor((width - limit) / 2),
      top: Math.floor((height - limit) / 2),
      width: limit,
      height: limit,
    }
  }
  const faceSide = Math.max(box.right - box.left, box.bottom - box.top)
  const side = Math.max(1, Math.min(limit, Math.round(faceSide * (1 + faceMargin))))
  const centreX = (box.left + box.right) / 2
  const centreY = (box.top + box.bottom) / 2
  const clamp = (value: number, room: number) => Math.min(Math.max(0, Math.round(value)), room)
  return {
    left: clamp(centreX - side / 2, width - side),
    top: clamp(centreY - side / 2, height - side),
    width: side,
    height: side,
  }
}
