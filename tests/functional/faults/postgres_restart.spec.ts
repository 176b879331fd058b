import { execFileSync, spawnSync } from 'node:child_process'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import { healthHeaders, startServer } from '../../../bench/support/bench_server.js'

const pgBin = '/usr/lib/postgresql/15/bin'

/**
 * A PostgreSQL server of the test's own, in a throwaway folder, that the
 * test stops and starts: the suite's server serves the test process
 * itself. As root, PostgreSQL runs as the `postgres` account Debian's
 * package creates, as in CI.
 */
class ThrowawayPostgres {
  private constructor(
    readonly dataDir: string,
    readonly port: number
  ) {}

  static async create(port: number) {
    const dataDir = await mkdtemp(join(tmpdir(), 'faceaccess-pg-fault-'))
    const server = new ThrowawayPostgres(dataDir, port)
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
      await chown(dataDir, uid, gid)
    }
    server.#run('initdb', ['-D', dataDir, '-U', 'faceaccess', '--auth=trust', '-E', 'UTF8'])
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = ''\nfsync = off\n`
    )
    server.start()
    execFileSync(join(pgBin, 'createdb'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'faceaccess',
      'faceaccess_fault',
    ])
    return server
  }

  #run(command: string, args: string[]) {
    const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
    const [program, ...rest] = [...asPostgres, join(pgBin, command), ...args]
    const result = spawnSync(program, rest, { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${command}: ${result.stderr || result.stdout}`)
  }

  start() {
    this.#run('pg_ctl', ['-D', this.dataDir, '-l', join(this.dataDir, 'log'), '-w', 'start'])
  }

  /** A fast shutdown: PostgreSQL ends every session, as a restart for an upgrade does. */
  stop() {
    this.#run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop'])
  }

  async remove() {
    spawnSync(
      process.getuid?.() === 0 ? 'runuser' : join(pgBin, 'pg_ctl'),
      process.getuid?.() === 0
        ? [
            '-u',
            'postgres',
            '--',
            join(pgBin, 'pg_ctl'),
            '-D',
            this.dataDir,
            '-m',
            'immediate',
            'stop',
          ]
        : ['-D', this.dataDir, '-m', 'immediate', 'stop']
    )
    await rm(this.dataDir, { recursive: true, force: true })
  }

  count(table: string) {
    const output = execFileSync(
      join(pgBin, 'psql'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'faceaccess',
        '-d',
        'faceaccess_fault',
      ].concat(['-Atc', `select count(*) from ${table}`]),
      { encoding: 'utf8' }
    )
    return Number(output.trim())
  }
}

/**
 * The PostgreSQL configuration's own fault: its database restarted under
 * a running server. Defined where the suite runs on PostgreSQL (CI's
 * second pass), where PostgreSQL 15 is installed; the SQLite pass has the
 * locked-database test instead.
 */
if (process.env.DB_CONNECTION === 'pg') {
  test.group('Faults: PostgreSQL restarted under the server', () => {
    test('calls answer 9007 with 503 while it is down, write nothing, and the server recovers without a restart', async ({
      assert,
      cleanup,
    }) => {
      const port = String(Number(process.env.PORT ?? 3333) + 76)
      const postgres = await ThrowawayPostgres.create(Number(process.env.PORT ?? 3333) + 21_000)
      cleanup(() => postgres.remove())
      const storage = `tmp/pg_fault_${process.pid}-storage`
      cleanup(() => rm(app.makePath(storage), { recursive: true, force: true }))
      const env = {
        DB_CONNECTION: 'pg',
        PG_HOST: '127.0.0.1',
        PG_PORT: String(postgres.port),
        PG_USER: 'faceaccess',
        PG_DB_NAME: 'faceaccess_fault',
        STORAGE_DIR: storage,
      }
      const ace = (args: string[]) => {
        const result = spawnSync(process.execPath, ['ace', ...args], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        })
        if (result.status !== 0) throw new Error(`node ace ${args.join(' ')}: ${result.stderr}`)
      }
      ace(['migration:run', '--force', '--compact-output', '--no-schema-generate'])

      const server = await startServer({ port, dbFile: 'unused.sqlite3', env })
      cleanup(() => {
        if (server.exitCode === null) server.kill('SIGKILL')
      })
      const origin = `http://127.0.0.1:${port}`
      const terminal = new FacesApiClient(origin, {
        deviceName: 'Restart gate',
        serialNumber: 'PG-RESTART-1',
      })
      // Unknown, the device is registered as pending by its first call; an installer approves it.
      const unknown = await terminal.call('token')
      assert.notEqual(unknown.code, 0)
      ace([
        'device:approve',
        'PG-RESTART-1',
        '--legacy',
        '--address=127.0.0.1',
        '--allow=recognition,database,feedback',
      ])
      const before = await terminal.clinetFeedback({ faceName: 'Before' })
      assert.equal(before.code, 0)

      const token = await terminal.token()
      postgres.stop()

      const started = Date.now()
      const raw = await fetch(`${origin}/faces/api/clinetFeedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          deviceName: 'Restart gate',
          deviceSN: 'PG-RESTART-1',
          token,
          faceName: 'During',
          eventId: 'during-the-restart',
        }),
      })
      const refused = (await raw.json()) as { code: number; message: string }
      assert.equal(raw.status, 503)
      assert.equal(raw.headers.get('retry-after'), '5')
      assert.include(refused, { code: 9007 })
      assert.match(refused.message, /database is unavailable; retry/)
      assert.isBelow(Date.now() - started, 8_000)

      const tokenWhileDown = await terminal.call('token')
      assert.equal(tokenWhileDown.code, 9007)
      const health = await fetch(`${origin}/health`, { headers: healthHeaders })
      assert.equal(health.status, 503)
      // Sessions live in the database: the sign-in page says why it cannot serve.
      const signIn = await fetch(`${origin}/login`)
      assert.equal(signIn.status, 503)
      assert.include(await signIn.text(), 'Unavailable for a moment')
      assert.equal(server.exitCode, null, 'the server kept running')

      postgres.start()
      const back = Date.now()
      let answer = await terminal.call('token').catch(() => null)
      while (answer?.code !== 0 && Date.now() - back < 30_000) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        answer = await terminal.call('token').catch(() => null)
      }
      assert.equal(answer?.code, 0, 'the server serves again without a restart')

      // The report the terminal repeats is recorded once; every call after the first success works.
      const repeated = await terminal.callWithToken('clinetFeedback', {
        faceName: 'During',
        eventId: 'during-the-restart',
      })
      assert.equal(repeated.code, 0)
      for (let call = 0; call < 50; call++) {
        const sync = await terminal.getDbs()
        assert.equal(sync.code, 0)
      }
      const healthy = await fetch(`${origin}/health`, { headers: healthHeaders })
      assert.equal(healthy.status, 200)
      assert.equal(postgres.count('access_events'), 2)

      const stopped = new Promise((resolve) => server.once('exit', resolve))
      server.kill('SIGTERM')
      await stopped
    }).timeout(180_000)
  })
}
