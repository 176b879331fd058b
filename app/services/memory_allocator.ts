import { existsSync, readFileSync } from 'node:fs'

/**
 * Where Debian and its derivatives install jemalloc (package libjemalloc2,
 * which redis-server already depends on), per architecture.
 */
export const jemallocCandidates = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/arm-linux-gnueabihf/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
]

/** The jemalloc library of this machine, or null. */
export function jemallocLibrary(exists: (path: string) => boolean = existsSync) {
  return jemallocCandidates.find((path) => exists(path)) ?? null
}

/**
 * The environment that keeps a long-running process's memory from
 * creeping up. Decoding photos (sharp, libvips) on several threads with
 * glibc's allocator leaves freed memory fragmented across per-thread
 * arenas: over an hour of terminal traffic the server's resident memory
 * grew by a fifth while its JavaScript heap stayed flat. jemalloc returns
 * that memory (+2% over the same run); without it, two glibc arenas
 * bound the growth (+11%).
 */
export function allocatorEnvironment(library = jemallocLibrary()): Record<string, string> {
  return library ? { LD_PRELOAD: library } : { MALLOC_ARENA_MAX: '2' }
}

export type AllocatorInUse = 'jemalloc' | 'glibc with two arenas' | 'glibc'

/** Which allocator this process runs on, from its mapped libraries and environment. */
export function allocatorInUse(
  maps = readFileSync('/proc/self/maps', 'utf8'),
  environment: NodeJS.ProcessEnv = process.env
): AllocatorInUse {
  if (maps.includes('libjemalloc')) return 'jemalloc'
  if (environment.MALLOC_ARENA_MAX) return 'glibc with two arenas'
  return 'glibc'
}
