/*
|--------------------------------------------------------------------------
| HTTP server entry point
|--------------------------------------------------------------------------
*/
import 'reflect-metadata'
import { Ignitor, prettyPrintError } from '@adonisjs/core'
import type { createNodeServer } from '#start/http_server'

const APP_ROOT = new URL('../', import.meta.url)

const IMPORTER = (filePath: string) => {
  if (filePath.startsWith('./') || filePath.startsWith('../')) {
    return import(new URL(filePath, APP_ROOT).href)
  }
  return import(filePath)
}

/**
 * Plain HTTP, or HTTPS when TLS_CERT_FILE and TLS_KEY_FILE are set; loaded
 * once the environment is, since it reads them.
 */
let createServer: typeof createNodeServer

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
      const { refuseInsecureProduction, allocatorAdvice } = await import('#start/production_check')
      const { allocatorInUse } = await import('#services/memory_allocator')
      const start = { built: import.meta.url.endsWith('.js') }
      refuseInsecureProduction(start)
      const advice = allocatorAdvice(start, allocatorInUse())
      if (advice) console.warn(advice)
      ;({ createNodeServer: createServer } = await import('#start/http_server'))
    })
    app.listen('SIGTERM', () => app.terminate())
    app.listenIf(app.managedByPm2, 'SIGINT', () => app.terminate())
  })
  .httpServer()
  .start((handler) => createServer(handler))
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
