import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { unitMarker } from '#services/systemd_units'

/**
 * The kernel from the container runs the commands in this process; raw
 * mode keeps their output for assertions. Units go to a folder of the
 * test's own: nothing here touches /etc/systemd or creates an account.
 */
async function aceKernel() {
  const ace = await app.container.make('ace')
  ace.ui.switchMode('raw')
  return ace
}

async function unitFolder() {
  return mkdtemp(app.tmpPath('units-'))
}

const appRoot = resolve(app.makePath())

test.group('service:install', (group) => {
  group.each.teardown(async () => {
    const ace = await aceKernel()
    ace.ui.logger.flushLogs()
  })

  test('--dry-run prints the server unit and the steps, and writes nothing', async ({
    assert,
    cleanup,
  }) => {
    const units = await unitFolder()
    cleanup(() => rm(units, { recursive: true, force: true }))
    const ace = await aceKernel()

    const command = await ace.exec('service:install', ['--dry-run', `--unit-dir=${units}`])

    command.assertSucceeded()
    const output = command.logger
      .getLogs()
      .map((log) => log.message)
      .join('\n')
    assert.include(output, `# ${join(units, 'faceaccess.service')}\n${unitMarker}`)
    for (const line of [
      `Description=FaceAccess server (${appRoot})`,
      'User=faceaccess',
      'Group=faceaccess',
      `WorkingDirectory=${appRoot}`,
      `EnvironmentFile=${appRoot}/.env`,
      `ExecStart=${appRoot}/node_modules/.bin/node bin/server.js`,
      'Restart=on-failure',
      'StandardOutput=journal',
      'StandardError=journal',
      'WantedBy=multi-user.target',
    ]) {
      assert.include(output.split('\n'), line)
    }
    // QUEUE_WORKER is true in the tests: the worker runs inside the server.
    assert.notInclude(output, 'faceaccess-worker.service')
    assert.match(
      output,
      /useradd --system --user-group .* faceaccess|use the existing account faceaccess/
    )
    assert.include(
      output,
      `make ${app.tmpPath()} the account's alone: chown -R faceaccess:faceaccess, chmod 700`
    )
    assert.include(output, `write ${join(units, 'faceaccess.service')}`)
    assert.include(output, 'systemctl daemon-reload && systemctl enable --now faceaccess.service')
    assert.deepEqual(await readdir(units), [])
  })

  test('--worker adds a worker unit that runs queue:work as the chosen account', async ({
    assert,
    cleanup,
  }) => {
    const units = await unitFolder()
    cleanup(() => rm(units, { recursive: true, force: true }))
    const ace = await aceKernel()

    const command = await ace.exec('service:install', [
      '--dry-run',
      '--worker',
      '--user=gatekeeper',
      '--name=site-b',
      `--unit-dir=${units}`,
    ])

    command.assertSucceeded()
    const output = command.logger
      .getLogs()
      .map((log) => log.message)
      .join('\n')
    const worker = output.slice(output.indexOf(`# ${join(units, 'site-b-worker.service')}`))
    assert.include(worker, `ExecStart=${appRoot}/node_modules/.bin/node ace.js queue:work`)
    assert.include(worker, 'User=gatekeeper')
    assert.include(worker, 'SyslogIdentifier=site-b-worker')
    assert.include(worker, `EnvironmentFile=${appRoot}/.env`)
    assert.include(output, `# ${join(units, 'site-b.service')}`)
    assert.include(output, 'systemctl enable --now site-b.service site-b-worker.service')
  })

  test('refuses an account name that is not plain, also in a dry run', async ({ assert }) => {
    const ace = await aceKernel()
    const command = await ace.exec('service:install', ['--dry-run', '--user=root;rm'])
    command.assertFailed()
    assert.match(
      command.logger
        .getLogs()
        .map((log) => log.message)
        .join('\n'),
      /--user "root;rm" is not a plain account name/
    )
  })

  test('refuses to install from the source tree, and changes nothing', async ({
    assert,
    cleanup,
  }) => {
    const units = await unitFolder()
    cleanup(() => rm(units, { recursive: true, force: true }))
    const ace = await aceKernel()

    const command = await ace.exec('service:install', [`--unit-dir=${units}`, '--user=nobody-here'])

    command.assertFailed()
    command.assertLogMatches(/is not a production build \(no bin\/server\.js\)/)
    assert.deepEqual(await readdir(units), [])
  })
})

test.group('service:install --terminal', (group) => {
  group.each.teardown(async () => {
    const ace = await aceKernel()
    ace.ui.logger.flushLogs()
  })

  /** A folder with an agent configuration, its plugins file and the folder for its units. */
  async function terminalSite(cleanup: (handler: () => Promise<void>) => void, config: object) {
    const folder = await mkdtemp(app.tmpPath('terminal-service-'))
    cleanup(() => rm(folder, { recursive: true, force: true }))
    const configFile = join(folder, 'terminal.json')
    await writeFile(configFile, JSON.stringify(config))
    await writeFile(join(folder, 'plugins.json'), '[]')
    const units = join(folder, 'units')
    return { folder, configFile, units }
  }

  const agentConfig = {
    serverUrl: 'http://10.0.0.5:3333',
    deviceName: 'Lobby east',
    serial: 'FT2024A00017',
    dataDir: 'agent-data',
    camera: { source: '/dev/video0' },
    pluginsFile: 'plugins.json',
  }

  test('--dry-run prints only the agent unit, with its data folder and the device groups, and writes nothing', async ({
    assert,
    cleanup,
  }) => {
    const { folder, configFile, units } = await terminalSite(cleanup, agentConfig)
    const ace = await aceKernel()

    const command = await ace.exec('service:install', [
      '--dry-run',
      `--terminal=${configFile}`,
      '--name=door-1',
      '--user=doorkeeper',
      `--unit-dir=${units}`,
    ])

    command.assertSucceeded()
    const output = command.logger
      .getLogs()
      .map((log) => log.message)
      .join('\n')
    assert.include(output, `# ${join(units, 'door-1-terminal.service')}\n${unitMarker}`)
    const dataDir = join(folder, 'agent-data')
    for (const line of [
      `ExecStart=${appRoot}/node_modules/.bin/node ace.js terminal:run --config ${configFile}`,
      'User=doorkeeper',
      'Restart=always',
      `EnvironmentFile=-${appRoot}/.env`,
      'SupplementaryGroups=video dialout',
      `ReadWritePaths=${dataDir}`,
      'SyslogIdentifier=door-1-terminal',
    ]) {
      assert.include(output.split('\n'), line)
    }
    assert.notInclude(output, 'door-1.service', "the server's unit is not installed")
    assert.notInclude(output, 'door-1-worker.service')
    assert.notInclude(output, 'chown root:doorkeeper', 'no .env is given to the account')
    assert.include(
      output,
      `make ${dataDir} the account's alone: chown -R doorkeeper:doorkeeper, chmod 700`
    )
    assert.include(
      output,
      `check that doorkeeper can read the install, ${configFile} and its plugins file, and write ${dataDir}`
    )
    assert.include(output, `write ${join(units, 'door-1-terminal.service')}`)
    assert.include(
      output,
      'systemctl daemon-reload && systemctl enable --now door-1-terminal.service'
    )
    await assert.rejects(() => stat(units))
    await assert.rejects(() => stat(dataDir))
  })

  test('a configuration the agent would refuse is refused, naming the field, and nothing is written', async ({
    assert,
    cleanup,
  }) => {
    const { folder, configFile, units } = await terminalSite(cleanup, {
      ...agentConfig,
      camera: { source: '/dev/video0', fps: 'ten' },
    })
    const ace = await aceKernel()

    const command = await ace.exec('service:install', [
      `--terminal=${configFile}`,
      `--unit-dir=${units}`,
    ])

    command.assertFailed()
    command.assertLogMatches(
      /terminal\.json: "fps" must be frames per second: fix the configuration/
    )
    await assert.rejects(() => stat(units))
    await assert.rejects(() => stat(join(folder, 'agent-data')))

    const missing = await ace.exec('service:install', [
      '--dry-run',
      `--terminal=${join(folder, 'nowhere.json')}`,
      `--unit-dir=${units}`,
    ])
    missing.assertFailed()
    missing.assertLogMatches(/cannot read .*nowhere\.json/)
  })
})

test.group('service:uninstall', (group) => {
  group.each.teardown(async () => {
    const ace = await aceKernel()
    ace.ui.logger.flushLogs()
  })

  test('removes the units service:install wrote and leaves others alone', async ({
    assert,
    cleanup,
  }) => {
    const units = await unitFolder()
    cleanup(() => rm(units, { recursive: true, force: true }))
    await writeFile(join(units, 'site-b.service'), `${unitMarker} in /opt/site-b\n[Unit]\n`)
    await writeFile(join(units, 'site-b-worker.service'), '[Unit]\nDescription=hand-made\n')
    await writeFile(
      join(units, 'site-b-terminal.service'),
      `${unitMarker} in /opt/site-b\n[Unit]\n`
    )
    const ace = await aceKernel()

    const dryRun = await ace.exec('service:uninstall', [
      '--name=site-b',
      `--unit-dir=${units}`,
      '--dry-run',
    ])
    dryRun.assertSucceeded()
    assert.sameMembers(await readdir(units), [
      'site-b.service',
      'site-b-worker.service',
      'site-b-terminal.service',
    ])

    const command = await ace.exec('service:uninstall', ['--name=site-b', `--unit-dir=${units}`])

    command.assertSucceeded()
    command.assertLogMatches(
      /site-b-worker\.service was not written by service:install: left alone/
    )
    assert.deepEqual(await readdir(units), ['site-b-worker.service'])
    assert.equal(
      await readFile(join(units, 'site-b-worker.service'), 'utf8'),
      '[Unit]\nDescription=hand-made\n'
    )
  })
})
