import { readdir, readFile, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import { freshCopy } from '#tests/helpers/terminal'
import {
  approvedDevice,
  legacyEverything,
  migrate,
  startServer,
} from '../../../bench/support/bench_server.js'

test.group('Faults: the database locked by another writer', () => {
  test('calls that must write answer 9007 with 503 within the busy timeout, write nothing, and succeed once the lock is gone', async ({
    assert,
    cleanup,
  }) => {
    const tag = `busy_${process.pid}`
    const dbFile = `${tag}.sqlite3`
    const storage = `tmp/${tag}-storage`
    const port = String(Number(process.env.PORT ?? 3333) + 72)
    const env = { DB_CONNECTION: 'sqlite', DB_FILE: dbFile, STORAGE_DIR: storage }
    cleanup(async () => {
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(app.makePath('tmp', `${dbFile}${suffix}`), { force: true })
      }
      await rm(app.makePath(storage), { recursive: true, force: true })
    })
    // The commands and the server run on a SQLite database of their own.
    const previous = { DB_CONNECTION: process.env.DB_CONNECTION }
    process.env.DB_CONNECTION = 'sqlite'
    try {
      migrate(dbFile)
      approvedDevice(
        dbFile,
        { deviceName: 'Busy gate', serialNumber: 'BUSY-0001' },
        legacyEverything
      )
    } finally {
      if (previous.DB_CONNECTION === undefined) delete process.env.DB_CONNECTION
      else process.env.DB_CONNECTION = previous.DB_CONNECTION
    }
    const server = await startServer({ port, dbFile, env, engine: 'engine' })
    cleanup(() => {
      if (server.exitCode === null) server.kill('SIGKILL')
    })
    const terminal = new FacesApiClient(`http://127.0.0.1:${port}`, {
      deviceName: 'Busy gate',
      serialNumber: 'BUSY-0001',
    })
    const { bytes: photo } = await freshCopy(
      await readFile(app.makePath('tests/fixtures/pairs/jim_parsons_sheldon1.png'))
    )
    const token = await terminal.token()

    // Another writer (a backup tool, a second server on the same file) holds the write lock.
    const other = new DatabaseSync(app.makePath('tmp', dbFile))
    other.exec('BEGIN IMMEDIATE')
    const started = Date.now()
    const raw = await fetch(`http://127.0.0.1:${port}/faces/api/clinetFeedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        deviceName: 'Busy gate',
        deviceSN: 'BUSY-0001',
        token,
        faceName: 'Someone',
      }),
    })
    const refused = (await raw.json()) as { code: number; message: string }
    assert.equal(raw.status, 503)
    assert.equal(raw.headers.get('retry-after'), '5')
    assert.include(refused, { code: 9007 })
    assert.match(refused.message, /database is unavailable; retry/)
    assert.isBelow(Date.now() - started, 8_000)

    const enrolment = await terminal.regFace({ username: 'sheldon', faceName: 'Sheldon', photo })
    assert.equal(enrolment.code, 9007)
    other.exec('ROLLBACK')

    const faces = await readdir(app.makePath(storage, 'faces'), { recursive: true }).catch(() => [])
    assert.deepEqual(
      faces.filter((name) => /\.(png|jpg)$/.test(name)),
      [],
      'the refused enrolment left no photo'
    )
    const count = (table: string) =>
      Number((other.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n)
    assert.equal(count('access_events'), 0)
    assert.equal(count('people'), 0)

    const recorded = await terminal.clinetFeedback({ faceName: 'Someone' })
    assert.equal(recorded.code, 0)
    const enrolled = await terminal.regFace({ username: 'sheldon', faceName: 'Sheldon', photo })
    assert.equal(enrolled.code, 0)
    assert.equal(count('access_events'), 1)
    assert.equal(count('faces'), 1)
    other.close()

    const stopped = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await stopped
  }).timeout(180_000)
})
