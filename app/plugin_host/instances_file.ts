import { readFileSync } from 'node:fs'

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
