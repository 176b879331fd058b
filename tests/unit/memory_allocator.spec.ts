import { test } from '@japa/runner'
import {
  allocatorEnvironment,
  allocatorInUse,
  jemallocCandidates,
  jemallocLibrary,
} from '#services/memory_allocator'
import { allocatorAdvice } from '#start/production_check'

test.group('Memory allocator', () => {
  test("jemalloc is preloaded where Debian installed it, else glibc's arenas are limited", ({
    assert,
  }) => {
    const arm = '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'
    assert.equal(
      jemallocLibrary((path) => path === arm),
      arm
    )
    assert.deepEqual(allocatorEnvironment(arm), { LD_PRELOAD: arm })
    assert.isNull(jemallocLibrary(() => false))
    assert.deepEqual(allocatorEnvironment(null), { MALLOC_ARENA_MAX: '2' })
  })

  test('the allocator in use is read from the mapped libraries', ({ assert }) => {
    const jemalloc = `7f01 r-xp 00000000 08:01 12 ${jemallocCandidates[0]}\n`
    const glibc = '7f02 r-xp 00000000 08:01 13 /usr/lib/x86_64-linux-gnu/libc.so.6\n'
    assert.equal(allocatorInUse(jemalloc + glibc, {}), 'jemalloc')
    assert.equal(allocatorInUse(glibc, { MALLOC_ARENA_MAX: '2' }), 'glibc with two arenas')
    assert.equal(allocatorInUse(glibc, {}), 'glibc')
  })

  test('a production server on the default allocator is told how to start', ({ assert }) => {
    assert.match(
      allocatorAdvice({ built: true }, 'glibc')!,
      /^The server runs on glibc's default memory allocator.*(LD_PRELOAD|MALLOC_ARENA_MAX)=/
    )
    assert.isNull(allocatorAdvice({ built: true }, 'jemalloc'))
    assert.isNull(allocatorAdvice({ built: true }, 'glibc with two arenas'))
    assert.isNull(allocatorAdvice({ built: false }, 'glibc'))
  })
})
