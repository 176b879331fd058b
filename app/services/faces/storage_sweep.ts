import type { Dirent } from 'node:fs'
import { chmod, lstat, readdir, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { inject } from '@adonisjs/core'
import app from '@adonisjs/core/services/app'
import terminalConfig from '#config/terminal'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import { MediaStore } from '#faces/media_store'

/** What a sweep removed (paths relative to the app root, as the database keeps them). */
export type SweepReport = {
  partials: string[]
  orphanPhotos: string[]
  stagedFiles: number
  uploadParts: number
  /** Thumbnails whose photo is gone. */
  thumbnails: number
  /** Files and folders that others could read, made owner-only. */
  tightened: number
}

const minute = 60_000

/**
 * Puts STORAGE_DIR back in order after a crash. A process killed while
 * writing leaves `.partial` files (see MediaStore); one killed between
 * storing an enrolment photo and committing its face leaves a photo that
 * nothing references; one killed mid-request leaves upload parts; photos
 * staged for an operator's decision expire. Each is removed only once it
 * is old enough that no work in flight can still own it: an unreferenced
 * enrolment photo or an upload part after `graceMinutes`, a `.partial`
 * after `partialGraceMinutes` (a write takes well under a second), a
 * staged photo after `MediaStore.stagedPhotoMinutes`. Snapshots are the
 * retention job's. Thumbnails go as soon as their photo is gone (one
 * removed by a crash between the photo and its thumbnails), since a
 * thumbnail is made only from a photo that exists.
 *
 * With `tighten`, files and folders that others may read (written before
 * the server created them owner-only) become 0600 and 0700. With
 * `writtenBefore`, files older than that moment count as old whatever
 * their age: a server on SQLite is the database's only writer, so at its
 * start nothing written before can still be in flight.
 */
@inject()
export class StorageSweep {
  static graceMinutes = 60
  static partialGraceMinutes = 1

  constructor(private media: MediaStore) {}

  async run(
    options: { tighten?: boolean; graceMinutes?: number; writtenBefore?: number } = {}
  ): Promise<SweepReport> {
    const now = Date.now()
    const grace = (options.graceMinutes ?? StorageSweep.graceMinutes) * minute
    const report: SweepReport = {
      partials: [],
      orphanPhotos: [],
      stagedFiles: 0,
      uploadParts: 0,
      thumbnails: 0,
      tightened: 0,
    }
    const root = terminalConfig.storageDir
    const referenced = await this.#referencedPhotos()
    const olderThan = async (path: string, age: number) => {
      const info = await stat(path).catch(() => null)
      const cutoff = Math.max(now - age, options.writtenBefore ?? Number.NEGATIVE_INFINITY)
      return info !== null && info.isFile() && info.mtimeMs < cutoff
    }

    if (options.tighten) {
      const info = await lstat(root).catch(() => null)
      if (info?.isDirectory() && (info.mode & 0o077) !== 0) {
        await chmod(root, 0o700)
        report.tightened++
      }
    }
    for await (const { path, entry } of walk(root)) {
      if (options.tighten) report.tightened += await tighten(path, entry)
      if (!entry.isFile()) continue
      const stored = relative(app.makePath(), path)
      const area = relative(root, path).split(/[/\\]/)[0]

      if (entry.name.endsWith('.partial')) {
        if (await olderThan(path, StorageSweep.partialGraceMinutes * minute)) {
          await rm(path, { force: true })
          report.partials.push(stored)
        }
      } else if (area === 'faces') {
        if (referenced.has(stored) || !(await olderThan(path, grace))) continue
        // Looked up again: an enrolment may have taken this very photo since the list was read.
        if (await this.#isReferenced(stored)) continue
        await this.media.remove(stored)
        report.orphanPhotos.push(stored)
      } else if (area === 'staging') {
        if (await olderThan(path, MediaStore.stagedPhotoMinutes * minute)) {
          await rm(path, { force: true })
          report.stagedFiles++
        }
      } else if (area === 'uploads') {
        if (await olderThan(path, grace)) {
          await rm(path, { force: true })
          report.uploadParts++
        }
      } else if (area === 'thumbnails') {
        const photo = join(root, relative(join(root, 'thumbnails'), dirname(path)))
        const gone = await stat(photo).then(
          () => false,
          () => true
        )
        if (gone) {
          await rm(path, { force: true })
          await rmdir(dirname(path)).catch(() => undefined)
          report.thumbnails++
        }
      }
    }
    return report
  }

  async #referencedPhotos() {
    const [faces, reviews] = await Promise.all([
      Face.query().whereNotNull('image_path').select('image_path').pojo<{ image_path: string }>(),
      EnrolmentReview.query()
        .whereNotNull('image_path')
        .select('image_path')
        .pojo<{ image_path: string }>(),
    ])
    return new Set([...faces, ...reviews].map((row) => row.image_path))
  }

  async #isReferenced(stored: string) {
    const [face, review] = await Promise.all([
      Face.findBy('image_path', stored),
      EnrolmentReview.findBy('image_path', stored),
    ])
    return face !== null || review !== null
  }
}

/** Every file and folder under `dir`, each folder before its contents; none when it does not exist. */
async function* walk(dir: string): AsyncGenerator<{ path: string; entry: Dirent }> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[])
  for (const entry of entries) {
    const path = join(dir, entry.name)
    yield { path, entry }
    if (entry.isDirectory()) yield* walk(path)
  }
}

/** Makes a file 0600 or a folder 0700 when others may read it; 1 when it did. */
async function tighten(path: string, entry: Dirent) {
  if (!entry.isFile() && !entry.isDirectory()) return 0
  const info = await lstat(path).catch(() => null)
  if (!info || (info.mode & 0o077) === 0) return 0
  await chmod(path, entry.isDirectory() ? 0o700 : 0o600)
  return 1
}
