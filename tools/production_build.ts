import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Bundler } from '@adonisjs/assembler'

/**
 * Assembler `buildFinished` hook of `npm run build`. The assembler writes
 * its own `build/ace.js`, which runs on whatever `node` is typed; the
 * project's `ace.js` re-runs itself on the bundled Node 24 and works from
 * a build as well, so it replaces the assembler's.
 */
export default async function completeProductionBuild(bundler: Bundler) {
  const aceFile = join(bundler.cwdPath, 'ace.js')
  await copyFile(aceFile, join(bundler.cwdPath, 'build', 'ace.js'))
  bundler.ui.logger.info('copied ace.js, which runs on the bundled Node 24', {
    suffix: 'build/ace.js',
  })
}
