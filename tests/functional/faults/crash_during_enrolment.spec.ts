import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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

/** Every file under a folder, as paths relative to the app root. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(app.makePath(folder), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(app.makePath().length + 1))
}

test.group('Faults: the server killed during enrolment', () => {
  test('SIGKILL during 50 concurrent regFace calls leaves, after a restart, complete enrolments or nothing', async ({
    assert,
    cleanup,
  }) => {
    const tag = `crash_${process.pid}`
    const dbFile = `${tag}.sqlite3`
    const storage = `tmp/${tag}-storage`
    const port = String(Number(process.env.PORT ?? 3333) + 71)
    const env = { DB_CONNECTION: 'sqlite', DB_FILE: dbFile, STORAGE_DIR: storage }
    cleanup(async () => {
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(app.makePath('tmp', `${dbFile}${suffix}`), { force: true })
      }
      await rm(app.makePath(storage), { recursive: true, force: true })
    })

    // The commands and the server it starts run on a SQLite database of their own.
    const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
    Object.assign(process.env, env)
    try {
      migrate(dbFile)
      approvedDevice(
        dbFile,
        { deviceName: 'Crash gate', serialNumber: 'CRASH-0001' },
        legacyEverything
      )
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }

    let server = await startServer({ port, dbFile, env, engine: 'engine' })
    cleanup(() => {
      if (server.exitCode === null) server.kill('SIGKILL')
    })
    const terminal = new FacesApiClient(`http://127.0.0.1:${port}`, {
      deviceName: 'Crash gate',
      serialNumber: 'CRASH-0001',
    })
    const names = await readdir(app.makePath('tests/fixtures/pairs'))
    const fixtures = names.filter((name) => /\.(png|jpe?g)$/.test(name))
    const photos = await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        const original = await readFile(
          app.makePath('tests/fixtures/pairs', fixtures[index % fixtures.length])
        )
        const copy = await freshCopy(original)
        return copy.bytes
      })
    )

    let enrolled = () => {}
    const firstEnrolment = new Promise<void>((resolve) => (enrolled = resolve))
    const calls = photos.map((photo, index) =>
      terminal
        .regFace({ username: `crash.${index}`, faceName: `Crash ${index}`, photo })
        .then((answer) => {
          if (answer.code === 0) enrolled()
          return answer.code
        })
        .catch(() => 'no answer' as const)
    )
    // Killed once enrolments land: others are between their photo and their row.
    await Promise.race([firstEnrolment, Promise.all(calls)])
    server.kill('SIGKILL')
    const answers = await Promise.all(calls)
    assert.include(answers, 0, 'some enrolments landed before the kill')
    assert.include(answers, 'no answer', 'the kill caught calls in flight')

    // What a kill between the two steps of a write leaves, whether or not this one did.
    const planted = join(storage, 'faces', 'ff', `${'f'.repeat(64)}.png`)
    await mkdir(app.makePath(storage, 'faces', 'ff'), { recursive: true })
    await writeFile(app.makePath(planted), 'a photo whose face row never committed')
    await writeFile(app.makePath(`${planted}.0b7c.partial`), 'half a photo')

    server = await startServer({ port, dbFile, env, engine: 'engine' })
    await new Promise((resolve) => setTimeout(resolve, 1_000))

    const files = await filesUnder(storage)
    assert.notInclude(files, planted, 'the unreferenced photo was swept at start')
    assert.deepEqual(
      files.filter((path) => path.endsWith('.partial')),
      [],
      'no half-written file is left'
    )
    const database = new DatabaseSync(app.makePath('tmp', dbFile))
    const faces = database.prepare('select person_id, image_path from faces').all() as {
      person_id: number
      image_path: string
    }[]
    const reviewed = database
      .prepare('select image_path from enrolment_reviews where image_path is not null')
      .all() as { image_path: string }[]
    const people = database
      .prepare("select id, username from people where username like 'crash.%'")
      .all() as { id: number; username: string }[]
    database.close()

    const referenced = new Set([...faces, ...reviewed].map((row) => row.image_path))
    const photosOnDisk = files.filter((path) => path.startsWith(`${storage}/faces/`))
    assert.deepEqual(
      photosOnDisk.filter((path) => !referenced.has(path)),
      [],
      'every stored photo belongs to a face or a review'
    )
    for (const face of faces) {
      assert.isTrue(existsSync(app.makePath(face.image_path)), `${face.image_path} is on disk`)
    }
    const withFace = new Set(faces.map((face) => face.person_id))
    assert.deepEqual(
      people.filter((person) => !withFace.has(person.id)).map((person) => person.username),
      [],
      'every person a terminal created has their face'
    )
    const stopped = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await stopped
  }).timeout(240_000)
})
