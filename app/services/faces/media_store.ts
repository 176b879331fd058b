import { createHash, randomUUID } from 'node:crypto'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, extname, join, relative } from 'node:path'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import terminalConfig from '#config/terminal'

const extensions: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tif',
  heif: 'heic',
}

const contentTypes: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.heic': 'image/heif',
}

/**
 * Enrolment photos and event snapshots on disk, under STORAGE_DIR. The
 * database keeps paths relative to the app root (what the retention job
 * deletes). Files are written whole, then renamed into place, so a crash
 * never leaves half a photo behind a database row.
 */
export class MediaStore {
  /**
   * An enrolment photo, named by its content: the same photo sent twice is
   * one file, which lets a retried enrolment recognise itself.
   */
  async saveFacePhoto(bytes: Uint8Array, format: string) {
    const digest = createHash('sha256').update(bytes).digest('hex')
    const path = join(
      terminalConfig.storageDir,
      'faces',
      digest.slice(0, 2),
      `${digest}.${extensions[format] ?? 'bin'}`
    )
    const exists = await stat(path).then(
      () => true,
      () => false
    )
    if (!exists) await this.#write(path, bytes)
    return relative(app.makePath(), path)
  }

  async saveSnapshot(bytes: Uint8Array, format: string) {
    const day = DateTime.now().toFormat('yyyy/MM/dd')
    const path = join(
      terminalConfig.storageDir,
      'snapshots',
      day,
      `${randomUUID()}.${extensions[format] ?? 'bin'}`
    )
    await this.#write(path, bytes)
    return relative(app.makePath(), path)
  }

  /** A stored file by its database path, when it is still on disk. */
  async locate(storedPath: string | null) {
    if (!storedPath) return null
    const path = app.makePath(storedPath)
    const isFile = await stat(path).then(
      (file) => file.isFile(),
      () => false
    )
    if (!isFile) return null
    return {
      path,
      contentType: contentTypes[extname(path).toLowerCase()] ?? 'application/octet-stream',
    }
  }

  /** Deletes a stored file by its database path; one already gone is no error. */
  async remove(storedPath: string) {
    await rm(app.makePath(storedPath), { force: true })
  }

  async #write(path: string, bytes: Uint8Array) {
    await mkdir(dirname(path), { recursive: true })
    const partial = `${path}.${randomUUID()}.partial`
    await writeFile(partial, bytes)
    await rename(partial, path)
  }
}
