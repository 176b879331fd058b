import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'

/**
 * The backup file: one archive, encrypted and authenticated with a key the
 * operator keeps.
 *
 *   "FABACKUP" | version (1 byte, 1) | header length (u32 BE) | header (JSON)
 *   then chunks: plaintext length (u32 BE, at most `chunk`) | ciphertext | GCM tag (16 bytes)
 *
 * The header names the key derivation (scrypt, with its cost and a random
 * salt), a key check value and the chunk size. From the passphrase scrypt
 * derives a master key; HKDF-SHA256 derives from it the AES-256-GCM key and
 * the check value, which tells a wrong key from a damaged file. Chunk `i`
 * is sealed with the nonce `[final ? 1 : 0, 0, 0, 0, i as u64 BE]` and the
 * whole header as additional data, so chunks cannot be reordered, dropped,
 * cut off after or moved to another file, and the header cannot be edited.
 *
 * The plaintext is a sequence of entries: meta length (u32 BE) | meta
 * (JSON `{ name, size }`) | `size` bytes; the last entry's meta is
 * `{ end: true, entries: n }`, and the final chunk ends right after it.
 */
const magic = Buffer.from('FABACKUP')
const version = 1
const tagBytes = 16
const chunkBytes = 1024 * 1024

/** scrypt's cost: about 32 MiB and a tenth of a second, once per file. */
const scryptCost = { N: 2 ** 15, r: 8, p: 1 }
/** The most a header may ask for, so that a forged one cannot exhaust memory. */
const maxScryptMemory = 256 * 1024 * 1024

export type BackupFailure = 'not_a_backup' | 'unsupported_version' | 'wrong_key' | 'damaged'

/** An archive that cannot be read: which way, and at which byte. */
export class BackupArchiveError extends Error {
  constructor(
    readonly failure: BackupFailure,
    message: string
  ) {
    super(message)
  }
}

type Header = {
  kdf: 'scrypt'
  N: number
  r: number
  p: number
  salt: string
  check: string
  chunk: number
}

type Keys = { key: Buffer; check: Buffer }

async function deriveKeys(passphrase: string, header: Header): Promise<Keys> {
  const salt = Buffer.from(header.salt, 'base64')
  const master = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      passphrase,
      salt,
      32,
      { N: header.N, r: header.r, p: header.p, maxmem: maxScryptMemory },
      (error, derived) => (error ? reject(error) : resolve(derived))
    )
  )
  return {
    key: Buffer.from(hkdfSync('sha256', master, salt, 'faceaccess backup: encryption', 32)),
    check: Buffer.from(hkdfSync('sha256', master, salt, 'faceaccess backup: key check', 16)),
  }
}

function nonce(index: number, final: boolean) {
  const bytes = Buffer.alloc(12)
  bytes[0] = final ? 1 : 0
  bytes.writeBigUInt64BE(BigInt(index), 4)
  return bytes
}

function u32(value: number) {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  return bytes
}

/**
 * Writes an archive entry by entry. Nothing is readable, nor accepted by
 * `BackupReader`, until `finish()` has written the final chunk.
 */
export class BackupWriter {
  #file: FileHandle
  #keys: Keys
  #aad: Buffer
  #pending: Buffer[] = []
  #pendingBytes = 0
  #index = 0
  #entries = 0

  private constructor(file: FileHandle, keys: Keys, aad: Buffer) {
    this.#file = file
    this.#keys = keys
    this.#aad = aad
  }

  /** Starts an archive at `path` (created, owner-only; an existing file is refused). */
  static async create(path: string, passphrase: string) {
    const salt = randomBytes(16)
    const partial: Omit<Header, 'check'> = {
      kdf: 'scrypt',
      ...scryptCost,
      salt: salt.toString('base64'),
      chunk: chunkBytes,
    }
    const keys = await deriveKeys(passphrase, { ...partial, check: '' })
    const header = Buffer.from(JSON.stringify({ ...partial, check: keys.check.toString('base64') }))
    const aad = Buffer.concat([magic, Buffer.from([version]), u32(header.length), header])
    const file = await open(path, 'wx', 0o600)
    await file.write(aad)
    return new BackupWriter(file, keys, aad)
  }

  /** Adds an entry from bytes or from a stream of them that add up to `size`. */
  async add(name: string, content: Uint8Array | AsyncIterable<Uint8Array>, size?: number) {
    const length = content instanceof Uint8Array ? content.length : size!
    const meta = Buffer.from(JSON.stringify({ name, size: length }))
    await this.#append(Buffer.concat([u32(meta.length), meta]))
    if (content instanceof Uint8Array) {
      await this.#append(content)
    } else {
      let written = 0
      for await (const piece of content) {
        written += piece.length
        await this.#append(piece)
      }
      if (written !== length) {
        throw new Error(`${name} changed while it was read: ${written} bytes instead of ${length}`)
      }
    }
    this.#entries++
  }

  /** Ends the archive, flushes it to disk and closes the file. */
  async finish() {
    const end = Buffer.from(JSON.stringify({ end: true, entries: this.#entries }))
    await this.#append(Buffer.concat([u32(end.length), end]))
    await this.#seal(Buffer.concat(this.#pending), true)
    this.#pending = []
    await this.#file.sync()
    await this.#file.close()
  }

  /** Closes the file without ending the archive (the caller removes it). */
  async abort() {
    await this.#file.close().catch(() => {})
  }

  async #append(bytes: Uint8Array) {
    let offset = 0
    while (offset < bytes.length) {
      const room = chunkBytes - this.#pendingBytes
      const piece = Buffer.from(bytes.subarray(offset, offset + room))
      this.#pending.push(piece)
      this.#pendingBytes += piece.length
      offset += piece.length
      if (this.#pendingBytes === chunkBytes) {
        await this.#seal(Buffer.concat(this.#pending), false)
        this.#pending = []
        this.#pendingBytes = 0
      }
    }
  }

  async #seal(plain: Buffer, final: boolean) {
    const cipher = createCipheriv('aes-256-gcm', this.#keys.key, nonce(this.#index++, final))
    cipher.setAAD(this.#aad)
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
    await this.#file.write(Buffer.concat([u32(plain.length), sealed]))
  }
}

/** An entry as `BackupReader.entries()` hands it out; read `content` to the end before the next. */
export type BackupEntry = { name: string; size: number; content: AsyncIterable<Buffer> }

/**
 * Reads an archive, checking every chunk as it goes: a wrong key is told
 * before anything is decrypted, a damaged, cut-off or extended file where
 * it stops making sense. Callers stage what they read and apply it only
 * once `entries()` has ended without an error.
 */
export class BackupReader {
  #file: FileHandle
  #keys: Keys
  #aad: Buffer
  #position: number
  #index = 0
  #finalSeen = false
  #plain = Buffer.alloc(0)

  private constructor(file: FileHandle, keys: Keys, aad: Buffer) {
    this.#file = file
    this.#keys = keys
    this.#aad = aad
    this.#position = aad.length
  }

  static async open(path: string, passphrase: string) {
    const file = await open(path, 'r')
    try {
      const start = Buffer.alloc(13)
      const { bytesRead } = await file.read(start, 0, 13, 0)
      if (bytesRead < 13 || !start.subarray(0, 8).equals(magic)) {
        throw new BackupArchiveError('not_a_backup', `${path} is not a FaceAccess backup`)
      }
      if (start[8] !== version) {
        throw new BackupArchiveError(
          'unsupported_version',
          `${path} is a backup of format ${start[8]}, which this version cannot read (it reads format ${version})`
        )
      }
      const headerLength = start.readUInt32BE(9)
      const headerBytes = Buffer.alloc(Math.min(headerLength, 4096))
      const read = await file.read(headerBytes, 0, headerBytes.length, 13)
      const header = parseHeader(headerBytes.subarray(0, read.bytesRead), headerLength)
      if (!header) {
        throw new BackupArchiveError('damaged', `The backup is damaged (its header cannot be read)`)
      }
      const keys = await deriveKeys(passphrase, header)
      const expected = Buffer.from(header.check, 'base64')
      if (expected.length !== keys.check.length || !timingSafeEqual(expected, keys.check)) {
        throw new BackupArchiveError(
          'wrong_key',
          `The key does not open ${path}: it was made with another BACKUP_KEY (or --key-file)`
        )
      }
      return new BackupReader(file, keys, Buffer.concat([start, headerBytes]))
    } catch (error) {
      await file.close()
      throw error
    }
  }

  /** The entries, in order; ends only after the archive's end was read and checked. */
  async *entries(): AsyncGenerator<BackupEntry> {
    let count = 0
    while (true) {
      const lengthBytes = await this.#take(4)
      const metaLength = lengthBytes.readUInt32BE(0)
      if (metaLength > 65536) throw this.#damaged('an entry is malformed')
      const meta = this.#parseMeta(await this.#take(metaLength))
      if ('end' in meta) {
        if (meta.entries !== count) throw this.#damaged('entries are missing')
        while (this.#plain.length === 0 && (await this.#nextChunk()));
        if (this.#plain.length > 0 || !(await this.#atEnd())) {
          throw this.#damaged('it goes on after its end')
        }
        return
      }
      let remaining = meta.size
      const content = async function* (this: BackupReader) {
        while (remaining > 0) {
          const piece = await this.#takeSome(remaining)
          remaining -= piece.length
          yield piece
        }
      }.call(this)
      yield { name: meta.name, size: meta.size, content }
      // What the caller did not read of the entry is skipped.
      while (remaining > 0) {
        const skipped = await this.#takeSome(remaining)
        remaining -= skipped.length
      }
      count++
    }
  }

  async close() {
    await this.#file.close()
  }

  #parseMeta(bytes: Buffer): { name: string; size: number } | { end: true; entries: number } {
    let meta
    try {
      meta = JSON.parse(bytes.toString('utf8'))
    } catch {
      throw this.#damaged('an entry is malformed')
    }
    if (meta?.end === true && Number.isInteger(meta.entries)) return meta
    if (typeof meta?.name === 'string' && Number.isSafeInteger(meta.size) && meta.size >= 0) {
      return meta
    }
    throw this.#damaged('an entry is malformed')
  }

  async #take(length: number) {
    while (this.#plain.length < length) {
      if (!(await this.#nextChunk())) throw this.#damaged('it is cut off')
    }
    const taken = this.#plain.subarray(0, length)
    this.#plain = this.#plain.subarray(length)
    return taken
  }

  async #takeSome(atMost: number) {
    if (this.#plain.length === 0 && !(await this.#nextChunk())) {
      throw this.#damaged('it is cut off')
    }
    const taken = this.#plain.subarray(0, Math.min(atMost, this.#plain.length))
    this.#plain = this.#plain.subarray(taken.length)
    return taken
  }

  /** Decrypts the next chunk into the plaintext buffer; false after the final one. */
  async #nextChunk() {
    if (this.#finalSeen) return false
    const lengthBytes = Buffer.alloc(4)
    const head = await this.#file.read(lengthBytes, 0, 4, this.#position)
    if (head.bytesRead < 4) throw this.#damaged('it is cut off')
    const length = lengthBytes.readUInt32BE(0)
    if (length > chunkBytes) throw this.#damaged('a chunk is malformed')
    const sealed = Buffer.alloc(length + tagBytes)
    const body = await this.#file.read(sealed, 0, sealed.length, this.#position + 4)
    if (body.bytesRead < sealed.length) throw this.#damaged('it is cut off')

    const plain = this.#open(sealed, false) ?? this.#open(sealed, true)
    if (!plain) throw this.#damaged('its content does not match its authentication tag')
    this.#finalSeen = plain.final
    this.#position += 4 + sealed.length
    this.#index++
    this.#plain = this.#plain.length ? Buffer.concat([this.#plain, plain.bytes]) : plain.bytes
    return true
  }

  #open(sealed: Buffer, final: boolean) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#keys.key, nonce(this.#index, final))
      decipher.setAAD(this.#aad)
      decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes))
      const bytes = Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - tagBytes)),
        decipher.final(),
      ])
      return { bytes, final }
    } catch {
      return null
    }
  }

  async #atEnd() {
    if (!this.#finalSeen) return false
    const { size } = await this.#file.stat()
    return size === this.#position
  }

  #damaged(what: string) {
    return new BackupArchiveError(
      'damaged',
      `The backup is damaged (${what}, near byte ${this.#position})`
    )
  }
}

function parseHeader(bytes: Buffer, declaredLength: number): Header | null {
  if (declaredLength !== bytes.length) return null
  try {
    const header = JSON.parse(bytes.toString('utf8')) as Header
    const valid =
      header.kdf === 'scrypt' &&
      [header.N, header.r, header.p, header.chunk].every(Number.isSafeInteger) &&
      128 * header.N * header.r * header.p <= maxScryptMemory &&
      header.chunk === chunkBytes &&
      typeof header.salt === 'string' &&
      typeof header.check === 'string'
    return valid ? header : null
  } catch {
    return null
  }
}
