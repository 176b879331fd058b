/*
|--------------------------------------------------------------------------
| Production start-up check
|--------------------------------------------------------------------------
|
| The HTTP server refuses to start in production with settings that would
| expose the site: sessions signed with a guessable key, or passwords and
| terminal credentials sent in the clear without anyone having chosen it.
| It runs for the HTTP server only (bin/server.ts), after start/env.ts has
| validated the environment.
|
*/
import env from '#start/env'
import { jemallocLibrary, type AllocatorInUse } from '#services/memory_allocator'

/** The keys the check reads, as start/env.ts parses them. */
export type ProductionSettings = {
  NODE_ENV: string
  APP_KEY: string
  APP_URL?: string
  ALLOW_PLAIN_HTTP?: boolean
  TLS_CERT_FILE?: string
}

/** How the server was started. */
export type ServerStart = {
  /** Started from the output of "npm run build" (bin/server.js), as a site runs it. */
  built: boolean
}

/** The shortest APP_KEY accepted: the 32 characters "node ace generate:key" makes. */
export const minimumAppKeyLength = 32

/**
 * What is wrong with the settings for a production server, each with what
 * to change; empty when it may serve. A build is how a site runs, so it
 * must run as production: in development mode error pages show source and
 * stack traces. A server from source in development or test mode is not
 * checked.
 */
export function productionProblems(settings: ProductionSettings, start: ServerStart): string[] {
  const problems: string[] = []
  if (start.built && settings.NODE_ENV !== 'production') {
    problems.push(
      `NODE_ENV is "${settings.NODE_ENV}", but this is a production build: set NODE_ENV=production (development mode shows source code and stack traces on error pages).`
    )
  }
  if (settings.NODE_ENV !== 'production' && !start.built) return problems

  const keyLength = settings.APP_KEY.trim().length
  if (keyLength < minimumAppKeyLength) {
    problems.push(
      `APP_KEY has ${keyLength} characters; it signs sessions and links and must have at least ${minimumAppKeyLength} random ones: set APP_KEY to the value "node ace generate:key --show" prints, and keep it (changing it signs everyone out).`
    )
  }

  if (!settings.APP_URL) {
    problems.push(
      'APP_URL is not set: set it to the address browsers and terminals use to reach this server, e.g. https://access.example.org.'
    )
  } else if (/^http:/i.test(settings.APP_URL) && settings.TLS_CERT_FILE) {
    problems.push(
      `APP_URL is ${settings.APP_URL}, but the server serves https itself (TLS_CERT_FILE is set): set APP_URL to its https:// address, which browsers and terminals use and which makes cookies Secure.`
    )
  } else if (/^http:/i.test(settings.APP_URL) && !settings.ALLOW_PLAIN_HTTP) {
    problems.push(
      `APP_URL is ${settings.APP_URL}, plain http: passwords, session cookies and terminal calls would cross the network unencrypted. Serve it over https (behind a reverse proxy that terminates TLS, APP_URL is the proxy's https:// address), or set ALLOW_PLAIN_HTTP=true to accept plain http on this site's network.`
    )
  }
  return problems
}

/**
 * Ends the process, with what to fix, when the server may not serve with
 * the current environment.
 */
export function refuseInsecureProduction(start: ServerStart) {
  const problems = productionProblems(
    {
      NODE_ENV: env.get('NODE_ENV'),
      APP_KEY: env.get('APP_KEY').release(),
      APP_URL: env.get('APP_URL'),
      ALLOW_PLAIN_HTTP: env.get('ALLOW_PLAIN_HTTP'),
      TLS_CERT_FILE: env.get('TLS_CERT_FILE'),
    },
    start
  )
  if (problems.length === 0) return
  console.error('The server will not start with this configuration:')
  for (const problem of problems) console.error(`  - ${problem}`)
  console.error('Set these in the environment or in .env (see .env.production.example).')
  process.exit(1)
}

/**
 * Advice, printed at start, for a production server running on glibc's
 * allocator as it is, whose memory creeps up over days of photo decoding;
 * null when the allocator is one that returns it (the units
 * "node ace service:install" writes set it).
 */
export function allocatorAdvice(start: ServerStart, allocator: AllocatorInUse) {
  if (!(start.built || env.get('NODE_ENV') === 'production') || allocator !== 'glibc') return null
  const preload = jemallocLibrary()
  const setting = preload ? `LD_PRELOAD=${preload}` : 'MALLOC_ARENA_MAX=2'
  return `The server runs on glibc's default memory allocator, whose fragmentation grows its memory by about a fifth an hour under terminal traffic: start it with ${setting} in its environment (not in .env), as the units of "node ace service:install" do.`
}
