import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import {
  chmod,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import backupConfig from '#config/backup'
import databaseConfig from '#config/database'
import terminalConfig from '#config/terminal'
import { appKey } from '#config/app'
import {
  BackupArchiveError,
  BackupReader,
  BackupWriter,
  type BackupFailure,
} from '#services/backup/backup_archive'

const run = promisify(execFile)

/** better-sqlite3, as far as backups use it (the package ships no types). */
type SqliteDatabase = {
  backup(destination: string): Promise<unknown>
  pragma(sql: string, options?: { simple: boolean }): unknown
  close(): void
}
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options?: { readonly?: boolean; fileMustExist?: boolean }
) => SqliteDatabase

/** What a backup holds, as its first entry says. */
type Manifest = {
  format: 1
  createdAt: string
  appVersion: string
  database: 'sqlite' | 'pg'
  /** STORAGE_DIR relative to the install folder: the database refers to photos by such paths. */
  storageFolder: string
  /** The ONNX models' checksums: features compare only with features of the same model. */
  models: Record<string, string>
}

const databaseEntry = { sqlite: 'database.sqlite3', pg: 'database.pgdump' } as const

/**
 * Folders of STORAGE_DIR that hold work in flight (uploads, videos waiting
 * for their enrolment job, staged photos) or what the server makes again
 * from the photos when asked (thumbnails), not the site's data.
 */
const transientFolders = new Set(['uploads', 'videos', 'staging', 'thumbnails'])

export type BackupError = {
  type: BackupFailure | 'no_key' | 'weak_key' | 'exists' | 'not_found' | 'other_site' | 'invalid'
  message: string
}

export type BackupResult =
  | { ok: true; file: string; bytes: number; storageFiles: number }
  | { ok: false; error: BackupError }

export type RestoreResult =
  | { ok: true; manifest: Manifest; storageFiles: number; warnings: string[] }
  | { ok: false; error: BackupError }

/** The shortest BACKUP_KEY backup:create accepts. */
export const minimumBackupKeyLength = 16

/**
 * Backs up a site into one encrypted file and restores it: the database (a
 * consistent snapshot of SQLite taken while the server runs, or pg_dump of
 * PostgreSQL), STORAGE_DIR (enrolment photos, event snapshots), the .env
 * and the models' checksums. A restore reads and checks the whole file,
 * staging what it holds, before it replaces anything: a wrong key or a
 * damaged file changes nothing.
 */
export class SiteBackup {
  /** The passphrase from --key-file, or BACKUP_KEY. */
  async key(
    keyFile?: string
  ): Promise<{ ok: true; key: string } | { ok: false; error: BackupError }> {
    const key = keyFile
      ? await readFile(keyFile, 'utf8').then(
          (text) => text.trim(),
          () => null
        )
      : backupConfig.key
    if (keyFile && key === null) {
      return {
        ok: false,
        error: { type: 'no_key', message: `--key-file ${keyFile} cannot be read` },
      }
    }
    if (!key) {
      return {
        ok: false,
        error: {
          type: 'no_key',
          message:
            'No backup key: set BACKUP_KEY in .env or pass --key-file, and keep a copy of it away from this machine',
        },
      }
    }
    return { ok: true, key }
  }

  async create(key: string, output?: string): Promise<BackupResult> {
    if (key.length < minimumBackupKeyLength) {
      return this.#fail(
        'weak_key',
        `The backup key has ${key.length} characters; use at least ${minimumBackupKeyLength} random ones (openssl rand -base64 32)`
      )
    }
    if (key === appKey.release()) {
      return this.#fail(
        'weak_key',
        'The backup key is the APP_KEY: choose a key of its own, kept away from this machine, since the .env may be lost with it'
      )
    }
    const file = output ? resolve(output) : this.#defaultOutput()
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    if (await exists(file))
      return this.#fail('exists', `${file} exists already: choose another --output`)

    const partial = `${file}.partial`
    const work = await mkdtemp(app.tmpPath('backup-'))
    let writer: BackupWriter | null = null
    try {
      writer = await BackupWriter.create(partial, key)
      const dialect = databaseConfig.connection === 'pg' ? 'pg' : 'sqlite'
      const manifest: Manifest = {
        format: 1,
        createdAt: new Date().toISOString(),
        appVersion: await this.#appVersion(),
        database: dialect,
        storageFolder: this.#storageFolder(),
        models: await this.#models(),
      }
      await writer.add('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)))

      const snapshot = join(work, databaseEntry[dialect])
      if (dialect === 'sqlite') await this.#snapshotSqlite(snapshot)
      else await this.#dumpPostgres(snapshot)
      await this.#addFile(writer, databaseEntry[dialect], snapshot)

      const env = await readFile(app.makePath('.env')).catch(() => null)
      if (env) await writer.add('env', env)

      let storageFiles = 0
      for (const path of await this.#storageFiles()) {
        if (
          await this.#addFile(writer, `storage/${relative(terminalConfig.storageDir, path)}`, path)
        ) {
          storageFiles++
        }
      }
      await writer.finish()
      writer = null
      await rename(partial, file)
      const { size } = await stat(file)
      return { ok: true, file, bytes: size, storageFiles }
    } catch (error) {
      await writer?.abort()
      await rm(partial, { force: true })
      throw error
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }

  async restore(file: string, key: string): Promise<RestoreResult> {
    let reader: BackupReader
    try {
      reader = await BackupReader.open(resolve(file), key)
    } catch (error) {
      if (error instanceof BackupArchiveError) return this.#fail(error.failure, error.message)
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return this.#fail('not_found', `${file} does not exist`)
      throw error
    }

    const storageDir = terminalConfig.storageDir
    const storageExisted = await exists(storageDir)
    const work = await mkdtemp(app.tmpPath('restore-'))
    const storageStage = join(storageDir, `.restoring-${randomBytes(6).toString('hex')}`)
    await mkdir(storageStage, { recursive: true, mode: 0o700 })
    const discardStage = async () => {
      await rm(work, { recursive: true, force: true })
      await rm(storageExisted ? storageStage : storageDir, { recursive: true, force: true })
    }

    try {
      const staged = await this.#stage(reader, work, storageStage)
      if (!staged.ok) {
        await discardStage()
        return staged
      }
      const { manifest, storageFiles } = staged
      const databaseProblem = await this.#checkStagedDatabase(
        manifest,
        join(work, databaseEntry[manifest.database])
      )
      if (databaseProblem) {
        await discardStage()
        return this.#fail('invalid', databaseProblem)
      }

      await this.#applyDatabase(manifest, join(work, databaseEntry[manifest.database]))
      await this.#replaceStorage(storageDir, storageStage)
      const warnings = [
        ...(await this.#restoreEnv(join(work, 'env'))),
        ...(await this.#compareModels(manifest)),
      ]
      if (manifest.appVersion !== (await this.#appVersion())) {
        warnings.push(
          `The backup was made by version ${manifest.appVersion}; this install is ${await this.#appVersion()}.`
        )
      }
      await rm(work, { recursive: true, force: true })
      return { ok: true, manifest, storageFiles, warnings }
    } catch (error) {
      await discardStage()
      if (error instanceof BackupArchiveError) return this.#fail(error.failure, error.message)
      throw error
    } finally {
      await reader.close()
    }
  }

  /**
   * Reads every entry into the staging folders. Nothing outside them is
   * written; an archive that is damaged anywhere fails here.
   */
  async #stage(reader: BackupReader, work: string, storageStage: string) {
    let manifest: Manifest | null = null
    let storageFiles = 0
    for await (const entry of reader.entries()) {
      if (!manifest) {
        if (entry.name !== 'manifest.json') {
          throw new BackupArchiveError(
            'damaged',
            'The backup is damaged (it does not start with its manifest)'
          )
        }
        const text = await collect(entry.content)
        manifest = JSON.parse(text.toString('utf8')) as Manifest
        const problem = this.#manifestProblem(manifest)
        if (problem) return this.#fail('other_site', problem)
        continue
      }
      if (entry.name.startsWith('storage/')) {
        const path = safeJoin(storageStage, entry.name.slice('storage/'.length))
        if (!path)
          throw new BackupArchiveError(
            'damaged',
            `The backup is damaged (an entry is named ${entry.name})`
          )
        await mkdir(dirname(path), { recursive: true, mode: 0o700 })
        await pipeline(entry.content, createWriteStream(path, { mode: 0o600 }))
        storageFiles++
      } else if (entry.name === databaseEntry[manifest.database] || entry.name === 'env') {
        await pipeline(entry.content, createWriteStream(join(work, entry.name), { mode: 0o600 }))
      }
    }
    if (!manifest)
      throw new BackupArchiveError('damaged', 'The backup is damaged (it holds no manifest)')
    return { ok: true as const, manifest, storageFiles }
  }

  /** Why this install cannot take the backup as it is; null when it can. */
  #manifestProblem(manifest: Manifest) {
    if (manifest.format !== 1)
      return `The backup's manifest is of format ${manifest.format}, which this version cannot read`
    const dialect = databaseConfig.connection === 'pg' ? 'pg' : 'sqlite'
    if (manifest.database !== dialect) {
      const names = { sqlite: 'SQLite', pg: 'PostgreSQL' }
      return `The backup holds a ${names[manifest.database]} database and this install uses ${names[dialect]}: set DB_CONNECTION=${manifest.database} in .env to restore it`
    }
    if (manifest.storageFolder !== this.#storageFolder()) {
      return `The backup's photos were in ${manifest.storageFolder} (relative to the install folder), where the database refers to them, and STORAGE_DIR is now ${this.#storageFolder()}: set STORAGE_DIR=${manifest.storageFolder} in .env to restore it`
    }
    return null
  }

  async #checkStagedDatabase(manifest: Manifest, path: string) {
    if (!(await exists(path))) return 'The backup holds no database'
    if (manifest.database === 'pg') {
      return run('pg_restore', ['--list', path]).then(
        () => null,
        (error) =>
          `The backup's PostgreSQL dump cannot be read by pg_restore: ${error.stderr || error.message}`
      )
    }
    const staged = new Sqlite(path, { readonly: true, fileMustExist: true })
    try {
      const result = staged.pragma('integrity_check', { simple: true })
      return result === 'ok'
        ? null
        : `The backup's database fails SQLite's integrity check: ${String(result)}`
    } finally {
      staged.close()
    }
  }

  /**
   * SQLite: the online backup API copies the staged database into the live
   * file page by page under SQLite's locks, so its -wal and -shm files stay
   * consistent. PostgreSQL: pg_restore in one transaction, which changes
   * nothing when it fails.
   */
  async #applyDatabase(manifest: Manifest, staged: string) {
    if (manifest.database === 'pg') {
      await run(
        'pg_restore',
        [
          '--clean',
          '--if-exists',
          '--no-owner',
          '--no-privileges',
          '--single-transaction',
          '--dbname',
          this.#pg().database,
          staged,
        ],
        { env: this.#pgEnv() }
      )
      return
    }
    const live = this.#sqliteFile()
    const source = new Sqlite(staged, { readonly: true, fileMustExist: true })
    try {
      await source.backup(live)
    } finally {
      source.close()
    }
    await chmod(live, 0o600)
  }

  /** STORAGE_DIR's content becomes the staged one (also when STORAGE_DIR is a mount point). */
  async #replaceStorage(storageDir: string, staged: string) {
    const stagedName = relative(storageDir, staged)
    for (const name of await readdir(storageDir)) {
      if (name !== stagedName) await rm(join(storageDir, name), { recursive: true, force: true })
    }
    for (const name of await readdir(staged)) {
      await rename(join(staged, name), join(storageDir, name))
    }
    await rm(staged, { recursive: true, force: true })
    await chmod(storageDir, 0o700)
  }

  /**
   * The backup's .env is not copied over this one (the machine may have
   * other addresses); when they differ it is put beside it. The APP_KEY
   * matters most: device credentials in the database are sealed with it.
   */
  async #restoreEnv(stagedEnv: string) {
    const backedUp = await readFile(stagedEnv, 'utf8').catch(() => null)
    if (backedUp === null) return []
    const current = await readFile(app.makePath('.env'), 'utf8').catch(() => '')
    if (current === backedUp) return []
    const beside = app.makePath('.env.from-backup')
    await writeFile(beside, backedUp, { mode: 0o600 })
    await chmod(beside, 0o600)
    const warnings = [`The backup's .env differs from this one; it is in ${beside} to compare.`]
    if (envValue(backedUp, 'APP_KEY') !== envValue(current, 'APP_KEY')) {
      warnings.push(
        `Its APP_KEY differs: terminals' credentials in the restored database are sealed with the backup's APP_KEY. Copy APP_KEY from ${beside} into .env, or issue every device a new credential.`
      )
    }
    return warnings
  }

  async #compareModels(manifest: Manifest) {
    const current = await this.#models()
    const changed = Object.keys(manifest.models).filter(
      (name) => current[name] !== manifest.models[name]
    )
    if (changed.length === 0) return []
    return [
      `These models differ from the backup's or are missing: ${changed.join(', ')}. Run "node ace models:build"; if the recognition model changed, the server re-embeds the faces when it starts ("node ace faces:reembed" shows the progress).`,
    ]
  }

  /** Whether the entry was added: a file removed since it was listed is left out. */
  async #addFile(writer: BackupWriter, name: string, path: string) {
    const handle = await open(path, 'r').catch(() => null)
    if (!handle) return false
    try {
      const { size } = await handle.stat()
      await writer.add(name, handle.createReadStream({ autoClose: false }), size)
      return true
    } finally {
      await handle.close()
    }
  }

  async #storageFiles() {
    const root = terminalConfig.storageDir
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
    return entries
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.partial'))
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((path) => {
        const top = relative(root, path).split(sep)[0]
        return !transientFolders.has(top) && !top.startsWith('.restoring-')
      })
      .sort()
  }

  /** SQLite's online backup: a consistent copy while the server writes. */
  async #snapshotSqlite(destination: string) {
    const live = new Sqlite(this.#sqliteFile(), { readonly: true, fileMustExist: true })
    try {
      await live.backup(destination)
    } finally {
      live.close()
    }
  }

  async #dumpPostgres(destination: string) {
    await run(
      'pg_dump',
      [
        '--format=custom',
        '--no-owner',
        '--no-privileges',
        '--file',
        destination,
        this.#pg().database,
      ],
      { env: this.#pgEnv() }
    )
  }

  #sqliteFile() {
    return (databaseConfig.connections.sqlite.connection as { filename: string }).filename
  }

  #pg() {
    return databaseConfig.connections.pg.connection as {
      host: string
      port: number
      user: string
      password?: string
      database: string
    }
  }

  /** pg_dump and pg_restore read the connection from the environment, the password included. */
  #pgEnv() {
    const pg = this.#pg()
    return {
      ...process.env,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      ...(pg.password ? { PGPASSWORD: pg.password } : {}),
    }
  }

  #storageFolder() {
    return relative(app.makePath(), terminalConfig.storageDir) || '.'
  }

  async #appVersion() {
    const pkg = JSON.parse(await readFile(app.makePath('package.json'), 'utf8'))
    return String(pkg.version)
  }

  async #models() {
    type ModelsManifest = { models?: Record<string, { sha256: string }> }
    const manifest: ModelsManifest = await readFile(
      app.makePath('models/manifest.json'),
      'utf8'
    ).then(
      (text) => JSON.parse(text),
      () => ({})
    )
    const checksums: Record<string, string> = {}
    for (const [name, model] of Object.entries(manifest.models ?? {}))
      checksums[name] = model.sha256
    return checksums
  }

  #defaultOutput() {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
    return join(backupConfig.folder, `faceaccess-${stamp}.fabackup`)
  }

  #fail(type: BackupError['type'], message: string) {
    return { ok: false as const, error: { type, message } }
  }
}

async function exists(path: string) {
  return stat(path).then(
    () => true,
    () => false
  )
}

async function collect(content: AsyncIterable<Buffer>) {
  const pieces: Buffer[] = []
  for await (const piece of content) pieces.push(piece)
  return Buffer.concat(pieces)
}

/** `name` inside `root`, or null for a name that would leave it. */
function safeJoin(root: string, name: string) {
  if (!name || isAbsolute(name)) return null
  const path = join(root, normalize(name))
  return path.startsWith(root + sep) ? path : null
}

function envValue(text: string, key: string) {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${key}=`))
  return line?.slice(key.length + 1).trim()
}
