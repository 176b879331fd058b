import { randomUUID } from 'node:crypto'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import terminalConfig from '#config/terminal'

/**
 * Where uploaded file parts wait while their request runs: a folder of the
 * storage only the server's account can read, since they are photos of
 * faces. The storage sweep removes what a crash left there.
 */
export const uploadsDir = () => join(terminalConfig.storageDir, 'uploads')

/** Reads a part to its end, handing each chunk to `report`, and keeps nothing. */
export async function discardPart(part: Readable, report: (chunk: Buffer) => void) {
  part.pause()
  part.on('data', report)
  await pipeline(part, new Writable({ write: (_chunk, _encoding, done) => done() }))
}

/**
 * The file parts of one request, each written owner-only to the uploads
 * folder, and all removed by `discard` once the request is over, whatever
 * its outcome. A part that arrives after `discard` (a client that went
 * away mid-upload) is read and dropped; one still being written when the
 * request ends (a refused or cut-off request whose part never finishes)
 * is cut off and its file removed.
 */
export class UploadedParts {
  #paths = new Set<string>()
  #writing = new Set<Readable>()
  #discarded = false

  async write(part: Readable, report: (chunk: Buffer) => void): Promise<{ tmpPath?: string }> {
    if (this.#discarded) {
      await discardPart(part, report)
      return {}
    }
    await mkdir(uploadsDir(), { recursive: true, mode: 0o700 })
    // The request may have ended while the folder was made: then no file is created at all.
    if (this.#discarded) {
      await discardPart(part, report)
      return {}
    }
    const path = join(uploadsDir(), randomUUID())
    this.#paths.add(path)
    this.#writing.add(part)
    part.pause()
    part.on('data', report)
    try {
      // Opened before writing, so that whoever removes the path after a failure finds the file.
      const file = await open(path, 'wx', 0o600)
      await pipeline(part, file.createWriteStream())
    } catch (error) {
      await this.#remove(path)
      throw error
    } finally {
      this.#writing.delete(part)
    }
    if (this.#discarded) await this.#remove(path)
    return { tmpPath: path }
  }

  async discard() {
    this.#discarded = true
    for (const part of this.#writing) part.destroy(new Error('The request ended'))
    await Promise.all([...this.#paths].map((path) => this.#remove(path)))
  }

  async #remove(path: string) {
    await rm(path, { force: true })
    this.#paths.delete(path)
  }
}
