import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, extname, isAbsolute, join, relative } from 'node:path'
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
 * never leaves half a photo behind a database row; what a crash does leave
 * (a `.partial` file, a photo no row took) the storage sweep removes.
 */
export class MediaStore {
  /** How long a photo waits for the operator's pick or confirmation. */
  static stagedPhotoMinutes = 60

  /**
   * An enrolment photo, named by its content: the same photo sent twice is
   * one file, which lets a retried enrolment recognise itself.
   */
  async saveFacePhoto(bytes: Uint8Array, format: string) {
    const stored = this.facePhotoPath(bytes, format)
    const path = app.makePath(stored)
    const now = new Date()
    // Made new again, so that the storage sweep leaves it to the enrolment that takes it.
    const exists = await utimes(path, now, now).then(
      () => true,
      () => false
    )
    if (!exists) await this.#write(path, bytes)
    return stored
  }

  /** The database path an enrolment photo has (or would have) once saved. */
  facePhotoPath(bytes: Uint8Array, format: string) {
    const digest = createHash('sha256').update(bytes).digest('hex')
    const path = join(
      terminalConfig.storageDir,
      'faces',
      digest.slice(0, 2),
      `${digest}.${extensions[format] ?? 'bin'}`
    )
    return relative(app.makePath(), path)
  }

  /**
   * Keeps an uploaded photo that an operator must act on before it can be
   * enrolled (pick one of several faces, confirm a warning), readable only
   * with the returned token and only by the same person page, for
   * `stagedPhotoMinutes`. Expired ones are swept on each new one.
   */
  async stagePhoto(bytes: Uint8Array, owner: string) {
    await this.#sweepStaged()
    const token = randomBytes(16).toString('hex')
    await this.#write(join(this.#stagingDir(), `${token}.photo`), bytes)
    await this.#write(
      join(this.#stagingDir(), `${token}.json`),
      Buffer.from(JSON.stringify({ owner }))
    )
    return token
  }

  /** A staged photo's bytes, when the token is well-formed, still kept and staged by `owner`. */
  async stagedPhoto(token: string, owner: string) {
    if (!/^[0-9a-f]{32}$/.test(token)) return null
    try {
      const meta = JSON.parse(await readFile(join(this.#stagingDir(), `${token}.json`), 'utf8'))
      if (meta.owner !== owner) return null
      return await readFile(join(this.#stagingDir(), `${token}.photo`))
    } catch {
      return null
    }
  }

  async unstagePhoto(token: string) {
    if (!/^[0-9a-f]{32}$/.test(token)) return
    await rm(join(this.#stagingDir(), `${token}.photo`), { force: true })
    await rm(join(this.#stagingDir(), `${token}.json`), { force: true })
  }

  #stagingDir() {
    return join(terminalConfig.storageDir, 'staging')
  }

  async #sweepStaged() {
    const oldest = Date.now() - MediaStore.stagedPhotoMinutes * 60_000
    const names = await readdir(this.#stagingDir()).catch(() => [] as string[])
    for (const name of names) {
      const path = join(this.#stagingDir(), name)
      const info = await stat(path).catch(() => null)
      if (info && info.mtimeMs < oldest) await rm(path, { force: true })
    }
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

  /**
   * Deletes a stored file by its database path, with the thumbnails made
   * of it; one already gone is no error.
   */
  async remove(storedPath: string) {
    await rm(app.makePath(storedPath), { force: true })
    const thumbnails = this.thumbnailFolder(storedPath)
    if (thumbnails) await rm(thumbnails, { recursive: true, force: true })
  }

  /**
   * Where the thumbnails of a stored file are kept: under
   * STORAGE_DIR/thumbnails, at the file's own path within the storage, so
   * that removing the file finds them and the storage sweep can tell
   * whose they are. Null for a file outside the storage.
   */
  thumbnailFolder(storedPath: string) {
    const within = relative(terminalConfig.storageDir, app.makePath(storedPath))
    if (within === '' || within.startsWith('..') || isAbsolute(within)) return null
    return join(terminalConfig.storageDir, 'thumbnails', within)
  }

  /** A thumbnail of a stored file, written owner-only like the file itself. */
  async saveThumbnail(storedPath: string, name: string, bytes: Uint8Array) {
    const folder = this.thumbnailFolder(storedPath)
    if (!folder) return
    await this.#write(join(folder, name), bytes)
  }

  /** Photos of faces are for the server's account alone: folders 0700, files 0600. */
  async #write(path: string, bytes: Uint8Array) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const partial = `${path}.${randomUUID()}.partial`
    await writeFile(partial, bytes, { mode: 0o600 })
    await rename(partial, path)
  }
}
