import { readFileSync } from 'node:fs'
import { chmod, copyFile, open, rename, rm } from 'node:fs/promises'

/**
 * The raw entries of the plugins file, or why it could not be read. Entries
 * are checked later, one by one, against the installed plugins.
 */
export interface InstancesSource {
  file: string
  entries: unknown[]
  error: string | null
}

/**
 * Reads the JSON array of plugin instances. It never throws: the app must
 * boot with a broken file and show what is wrong. A missing file is an
 * error only when it was asked for (`required`); the default file is
 * optional and its absence means no instances.
 */
export function readInstancesFile(file: string, required: boolean): InstancesSource {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    if (missing && !required) return { file, entries: [], error: null }
    return { file, entries: [], error: `Cannot read ${file}: ${(error as Error).message}` }
  }

  try {
    const parsed: unknown = JSON.parse(text)
    if (!Array.isArray(parsed)) {
      return { file, entries: [], error: `${file} must hold a JSON array of plugin instances` }
    }
    return { file, entries: parsed, error: null }
  } catch (error) {
    return { file, entries: [], error: `${file} is not valid JSON: ${(error as Error).message}` }
  }
}

/**
 * Writes the plugins file whole, so that a crash or a full disk leaves
 * either the old file or the new one, never half of either: the entries go
 * to a temporary file beside it, flushed, then renamed over it. The file
 * it replaces is kept as `<file>.bak`. Both are readable by their owner
 * only, since a config may hold addresses and paths a site keeps private.
 */
export async function writeInstancesFile(file: string, entries: unknown[]) {
  const temporary = `${file}.${process.pid}.tmp`
  const handle = await open(temporary, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(entries, null, 2)}\n`)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temporary, { force: true })
    throw error
  }
  await handle.close()
  try {
    await copyFile(file, `${file}.bak`)
    await chmod(`${file}.bak`, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(temporary, { force: true })
      throw error
    }
  }
  await rename(temporary, file)
}
