import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { KioskBrowser } from '#terminal-client/kiosk/kiosk_browser'
import { KioskServer } from '#terminal-client/kiosk/kiosk_server'
import { until } from '#tests/helpers/redis_server'

const dir = app.makePath('tmp', `kiosk_browser_spec_${process.pid}`)
const profileDir = `${dir}/profile`

/** A stand-in for Chromium that writes down when and how it was started, then exits with 1. */
function fakeBrowser() {
  const log = `${dir}/runs.log`
  const executable = `${dir}/fake-chromium`
  writeFileSync(executable, `#!/bin/sh\necho "$(date +%s%3N) $*" >> ${log}\nexit 1\n`)
  chmodSync(executable, 0o755)
  const runs = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [])
  return { executable, runs }
}

/** Processes of a group still running (zombies, dead but not yet reaped by init, do not count). */
function runningInGroup(pgid: number) {
  const ps = spawnSync('ps', ['-o', 'stat=', '-g', String(pgid)], { encoding: 'utf8' })
  return ps.stdout.split('\n').filter((stat) => stat.trim() !== '' && !stat.trim().startsWith('Z'))
    .length
}

test.group('Kiosk browser', (group) => {
  group.each.setup(() => {
    mkdirSync(dir, { recursive: true })
    return () => rmSync(dir, { recursive: true, force: true })
  })

  test('without a display nothing is started', async ({ assert }) => {
    const fake = fakeBrowser()
    const browser = new KioskBrowser({
      url: 'http://127.0.0.1:1',
      display: false,
      executable: fake.executable,
      profileDir,
    })
    browser.start()
    await sleep(200)
    assert.deepEqual(fake.runs(), [])
    assert.equal(browser.health().state, 'disabled')
    await browser.stop()
  })

  test('a browser that exits is started again with growing waits, in kiosk mode on the page, until stopped', async ({
    assert,
  }) => {
    const fake = fakeBrowser()
    const browser = new KioskBrowser({
      url: 'http://127.0.0.1:3999',
      display: true,
      executable: fake.executable,
      profileDir,
      backoffMs: 20,
      maxBackoffMs: 80,
    })
    browser.start()
    await until(async () => fake.runs().length >= 4, 'four runs')
    const [first, ...args] = fake.runs()[0].split(' ')
    const starts = [
      first,
      ...fake
        .runs()
        .slice(1, 4)
        .map((run) => run.split(' ')[0]),
    ].map(Number)
    const waits = starts.slice(1).map((start, i) => start - starts[i])
    assert.isAtLeast(waits[0], 20)
    assert.isAtLeast(waits[2], 80, `the wait doubles up to its cap: ${waits.join(', ')} ms`)
    assert.includeMembers(args, [
      '--kiosk',
      '--app=http://127.0.0.1:3999',
      '--noerrdialogs',
      '--disable-translate',
      `--user-data-dir=${profileDir}`,
    ])
    assert.isAtLeast(browser.health().restarts, 3)
    assert.equal(browser.health().lastExit, 'exit code 1')
    await browser.stop()
    const runs = fake.runs().length
    await sleep(300)
    assert.lengthOf(fake.runs(), runs, 'no run after stop')
    assert.equal(browser.health().state, 'stopped')
  })

  test('a browser that cannot be found is reported and tried again', async ({ assert }) => {
    const browser = new KioskBrowser({
      url: 'http://127.0.0.1:3999',
      display: true,
      executable: `${dir}/no-such-chromium`,
      profileDir,
      backoffMs: 20,
    })
    browser.start()
    await until(async () => browser.health().restarts >= 2, 'two attempts')
    assert.include(browser.health().lastExit, 'ENOENT')
    await browser.stop()
  })

  test('Chromium shows the page, comes back after a crash and is gone after stop', async ({
    assert,
  }) => {
    const server = new KioskServer({ port: 0, language: 'en' })
    await server.start()
    const browser = new KioskBrowser({
      url: server.url,
      display: true,
      profileDir,
      extraArgs: ['--headless', '--disable-gpu'],
      backoffMs: 100,
    })
    try {
      browser.start()
      await until(async () => server.clients === 1, 'the page connected', 30_000)
      const first = browser.health().pid!
      assert.isAbove(runningInGroup(first), 1, 'the browser and its renderers')

      process.kill(-first, 'SIGKILL')
      await until(async () => browser.health().restarts === 1, 'the browser restarted', 10_000)
      await until(
        async () => server.clients === 1 && browser.health().pid !== first,
        'the page connected again',
        30_000
      )
      const second = browser.health().pid!
      await browser.stop()
      assert.equal(runningInGroup(second), 0, 'no process of its group is left')
      await until(async () => server.clients === 0, 'the page gone')
    } finally {
      await browser.stop()
      await server.stop()
    }
  })
})
